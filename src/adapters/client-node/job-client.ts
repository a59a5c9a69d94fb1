import { ApiError, type ApiOperation } from '../../errors/api-error.js';
import type {
  CallOptions,
  DeleteOptions,
  JobClient,
  ListOptions,
  ListResult,
  LogOptions,
  WatchOptions,
} from '../../ports/job-client.js';
import type { Container, Job, KubeEvent, Pod, WatchEvent } from '../../types/kube.js';
import { classifyStatusObject, describeOperation } from './classify.js';
import type { KubeApi } from './kube-api.js';
import { readLines } from './lines.js';
import { type Query, segment } from './request.js';
import { timeLimit } from './time-limit.js';

/** A list reply of the API server. */
interface KubeList<T> {
  items?: T[];
  metadata?: { resourceVersion?: string; continue?: string };
}

/** Objects per page of a list (client-go's pager uses 500 too). */
export const LIST_PAGE_SIZE = 500;

/** The resources this client touches, as RBAC names them. */
const JOBS = { resource: 'jobs', group: 'batch' } as const;
const PODS = { resource: 'pods', group: '' } as const;
const POD_LOGS = { resource: 'pods/log', group: '' } as const;
const EVENTS = { resource: 'events', group: '' } as const;

/**
 * The {@link JobClient} of a real cluster, over the `batch/v1` and `core/v1` REST API. Every request is
 * rate-limited, retried when transient and classified into `ApiError` by the {@link KubeApi} it is
 * given; objects are returned as the plain JSON the server sent (camelCase, RFC 3339 timestamps).
 *
 * The package hands it out through `createClientNodeAdapters` (lazily: a JobClient that loads this one
 * on its first call) and exports it as a type.
 *
 * @example
 * const { jobClient } = createClientNodeAdapters({ context: 'staging' });
 * const job = await jobClient.getJob('ml', 'mage-data-prep-block-42');
 */
export class ClientNodeJobClient implements JobClient {
  /** Watches pass `sendInitialEvents` on: the API server serves streaming lists (or refuses them, 422). */
  readonly supportsWatchList = true;

  constructor(private readonly api: KubeApi) {}

  /**
   * Creates a Job (`dryRun: true` sends `dryRun=All`: validated and defaulted, not stored). A 409 on a
   * retry of this call means the earlier attempt went through: the Job is read back and returned when
   * it carries the labels that were sent (names are deterministic, so this makes create idempotent).
   * `fieldValidation` is the API's parameter of that name (`Strict`: an unknown or duplicate field is an
   * error, not a warning); unset, the server's default applies.
   *
   * @throws ApiError `API_CONFLICT` when another Job of that name exists, `API_INVALID` with the
   *   server's field causes, `API_FORBIDDEN` naming the missing RBAC rule, ...
   */
  createJob(
    namespace: string,
    job: Job,
    options: CallOptions & { dryRun?: boolean; fieldValidation?: 'Strict' | 'Warn' | 'Ignore' } = {},
  ): Promise<Job> {
    const name = job.metadata.name;
    const op = jobOp('create', namespace, name);
    return this.api.json<Job>(
      op,
      {
        method: 'POST',
        path: jobsPath(namespace),
        query: { dryRun: options.dryRun ? 'All' : undefined, fieldValidation: options.fieldValidation },
        body: job,
        signal: options.signal,
      },
      {
        redact: envValues(job),
        onConflictAfterRetry:
          options.dryRun || !name ? undefined : () => this.adoptOwnJob(namespace, name, job, options.signal),
      },
    );
  }

  /** Reads a Job; undefined when it does not exist. @throws ApiError (never `API_NOT_FOUND`). */
  async getJob(namespace: string, name: string, options: CallOptions = {}): Promise<Job | undefined> {
    try {
      return await this.api.json<Job>(jobOp('get', namespace, name), {
        method: 'GET',
        path: `${jobsPath(namespace)}/${segment(name)}`,
        signal: options.signal,
      });
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  /**
   * Lists Jobs matching a label selector, with the list's resourceVersion: page by page
   * ({@link LIST_PAGE_SIZE} per page, `limit`/`continue`), all pages joined. @throws ApiError
   */
  listJobs(namespace: string, labelSelector: string, options: ListOptions = {}): Promise<ListResult<Job>> {
    return this.list<Job>(jobOp('list', namespace), jobsPath(namespace), { labelSelector }, options);
  }

  /**
   * Watches Jobs (`watch=true`, bookmarks on by default). Resolves when the stream ends, whether the
   * server closed it (timeoutSeconds) or the connection dropped: resume from the last resourceVersion.
   * With `sendInitialEvents`, a streaming list: `sendInitialEvents=true&resourceVersionMatch=NotOlderThan`
   * (and `resourceVersion` only when given: unset asks for the latest state); its BOOKMARKs come as the
   * server sent them, the `k8s.io/initial-events-end` annotation included.
   *
   * @throws ApiError `API_GONE` for HTTP 410 and for an in-stream ERROR event with code 410.
   * @throws the signal's reason when aborted.
   */
  watchJobs(
    namespace: string,
    onEvent: (event: WatchEvent<Job>) => void,
    options: WatchOptions,
  ): Promise<void> {
    return this.watch(jobOp('watch', namespace), jobsPath(namespace), onEvent, options);
  }

  /**
   * Deletes a Job with `propagationPolicy` (default Foreground: the Job goes once its pods are gone).
   * With `uid`, a `DeleteOptions` body carries `preconditions.uid`, so the API server deletes the Job
   * only if it is still that one. Resolves false when it did not exist.
   *
   * @throws ApiError `API_CONFLICT` when a Job of that name with another uid is there (it is left alone).
   */
  async deleteJob(namespace: string, name: string, options: DeleteOptions = {}): Promise<boolean> {
    const op = jobOp('delete', namespace, name);
    const propagationPolicy = options.propagationPolicy ?? 'Foreground';
    try {
      await this.api.json<unknown>(op, {
        method: 'DELETE',
        path: `${jobsPath(namespace)}/${segment(name)}`,
        // The API server reads the options from the body when there is one; the query says the same
        // for servers (and fakes) that read only the query.
        query: { propagationPolicy },
        ...(options.uid !== undefined
          ? {
              body: {
                apiVersion: 'v1',
                kind: 'DeleteOptions',
                propagationPolicy,
                preconditions: { uid: options.uid },
              },
            }
          : {}),
        signal: options.signal,
      });
      return true;
    } catch (e) {
      if (isNotFound(e)) return false;
      if (options.uid !== undefined && codeOf(e) === 'API_CONFLICT') throw notOurJob(op, options.uid, e);
      throw e;
    }
  }

  /** Lists Pods matching a label selector (`job-name=<job>` for one Job's pods), page by page. @throws ApiError */
  listPods(namespace: string, labelSelector: string, options: ListOptions = {}): Promise<ListResult<Pod>> {
    return this.list<Pod>(podOp('list', namespace), podsPath(namespace), { labelSelector }, options);
  }

  /** Watches Pods; same contract as {@link ClientNodeJobClient.watchJobs}. */
  watchPods(
    namespace: string,
    onEvent: (event: WatchEvent<Pod>) => void,
    options: WatchOptions,
  ): Promise<void> {
    return this.watch(podOp('watch', namespace), podsPath(namespace), onEvent, options);
  }

  /** Reads a pod's log once (`container`, `tailLines`, `sinceTime`, `timestamps`). @throws ApiError */
  readPodLog(namespace: string, pod: string, options: LogOptions = {}): Promise<string> {
    return this.api.text(logOp(namespace, pod), {
      method: 'GET',
      path: logPath(namespace, pod),
      query: logQuery(options, false),
      signal: options.signal,
    });
  }

  /**
   * Follows a pod's log (`follow=true`, with `container`, `sinceTime`, `timestamps`, `tailLines`),
   * calling `onLine` for each line (see `readLines` for lines over 64 KiB); a last line without a
   * newline is delivered when the server ends the stream. The stream has no time limit once
   * connected: a container quiet for hours keeps its follow. Resolves when the stream ends (the
   * container finished, the server closed it) and, unless `failOnBrokenStream`, when the connection
   * broke.
   *
   * @throws ApiError when it cannot start; a transient `API_UNAVAILABLE` for a broken stream with
   *   `failOnBrokenStream`; the signal's reason on abort.
   */
  async followPodLog(
    namespace: string,
    pod: string,
    onLine: (line: string) => void,
    options: LogOptions = {},
  ): Promise<void> {
    const op = logOp(namespace, pod);
    const { body } = await this.api.stream(op, {
      method: 'GET',
      path: logPath(namespace, pod),
      query: logQuery(options, true),
      signal: options.signal,
    });
    const end = await readLines(body, onLine, options.signal);
    if (end === 'broken' && options.failOnBrokenStream) {
      throw new ApiError(
        'API_UNAVAILABLE',
        `The log stream of ${describeOperation(op)} broke before the server ended it (the connection was ` +
          'reset or cut); every complete line before the break was delivered. Follow again with sinceTime ' +
          'to resume.',
        { operation: op, transient: true },
      );
    }
  }

  /**
   * Lists the `Warning` events of one Job or Pod (field selector on `involvedObject.kind/name`, and
   * `uid` when given), oldest first. @throws ApiError
   */
  async listWarningEvents(
    namespace: string,
    object: { kind: 'Job' | 'Pod'; name: string; uid?: string },
    options: CallOptions = {},
  ): Promise<KubeEvent[]> {
    const fieldSelector = [
      `involvedObject.kind=${object.kind}`,
      `involvedObject.name=${object.name}`,
      ...(object.uid ? [`involvedObject.uid=${object.uid}`] : []),
      'type=Warning',
    ].join(',');
    const { items } = await this.list<KubeEvent>(
      { verb: 'list', ...EVENTS, namespace },
      `/api/v1/namespaces/${segment(namespace)}/events`,
      { fieldSelector },
      options,
    );
    return items.sort((a, b) => eventTime(a) - eventTime(b));
  }

  /** After a 409 on a retried create: the Job when it is the one we sent (same labels), else undefined. */
  private async adoptOwnJob(
    namespace: string,
    name: string,
    sent: Job,
    signal: AbortSignal | undefined,
  ): Promise<Job | undefined> {
    const existing = await this.getJob(namespace, name, signal ? { signal } : {});
    const wanted = sent.metadata.labels ?? {};
    const have = existing?.metadata.labels ?? {};
    return existing && Object.entries(wanted).every(([k, v]) => have[k] === v) ? existing : undefined;
  }

  /**
   * Reads a list to its end, page by page. A 410 on a continue token (it expired: the list took longer
   * than etcd's compaction window) falls back to one unpaginated list, as client-go's pager does.
   */
  private async list<T>(
    op: ApiOperation,
    path: string,
    selectors: { labelSelector?: string; fieldSelector?: string },
    options: ListOptions,
  ): Promise<ListResult<T>> {
    const base: Query = {
      labelSelector: selectors.labelSelector || undefined,
      fieldSelector: selectors.fieldSelector || undefined,
    };
    const get = (query: Query) =>
      this.api.json<KubeList<T>>(op, {
        method: 'GET',
        path,
        query: { ...base, ...query },
        signal: options.signal,
      });
    const items: T[] = [];
    let page = await get({ limit: LIST_PAGE_SIZE, resourceVersion: options.resourceVersion });
    for (;;) {
      for (const item of page.items ?? []) items.push(item);
      const token = page.metadata?.continue;
      if (!token) return { items, resourceVersion: page.metadata?.resourceVersion ?? '' };
      try {
        // A continue token carries the list's version: sending resourceVersion too is an error.
        page = await get({ limit: LIST_PAGE_SIZE, continue: token });
      } catch (e) {
        if (codeOf(e) !== 'API_GONE') throw e;
        const full = await get({ resourceVersion: options.resourceVersion });
        return { items: full.items ?? [], resourceVersion: full.metadata?.resourceVersion ?? '' };
      }
    }
  }

  private async watch<T>(
    op: ApiOperation,
    path: string,
    onEvent: (event: WatchEvent<T>) => void,
    options: WatchOptions,
  ): Promise<void> {
    // A connection that dies without a FIN never ends by itself: give up a while after the server's
    // own timeout would have closed it, and end like a normal close (the caller re-watches).
    const deadline =
      options.timeoutSeconds !== undefined
        ? timeLimit((options.timeoutSeconds + WATCH_DEADLINE_GRACE_S) * 1000, options.signal)
        : undefined;
    const signal = deadline?.signal ?? options.signal;
    try {
      const { body } = await this.api.stream(op, {
        method: 'GET',
        path,
        query: {
          watch: true,
          labelSelector: options.labelSelector || undefined,
          resourceVersion: options.resourceVersion || undefined,
          allowWatchBookmarks: options.allowBookmarks ?? true,
          timeoutSeconds: options.timeoutSeconds,
          ...(options.sendInitialEvents
            ? { sendInitialEvents: true, resourceVersionMatch: 'NotOlderThan' }
            : {}),
        },
        signal,
      });
      await readLines(
        body,
        (line) => {
          const event = parseWatchLine(line);
          if (!event) return;
          if (event.type === 'ERROR') throw classifyStatusObject(op, event.object);
          if (WATCH_TYPES.has(event.type)) onEvent({ type: event.type, object: event.object as T });
        },
        signal,
        WATCH_MAX_LINE_LENGTH,
      );
    } catch (e) {
      if (deadline?.signal.aborted && !options.signal?.aborted) return;
      throw e;
    } finally {
      deadline?.dispose();
    }
  }
}

/** Seconds past the server-side `timeoutSeconds` after which a silent watch is dropped. */
const WATCH_DEADLINE_GRACE_S = 30;

/**
 * The longest watch event line read whole (characters): far above any event (an object is at most
 * ~1.5 MiB in etcd), unlike the 64 KiB of log lines, which a large Job or Pod event could pass. The
 * bound only keeps a misbehaving server from growing memory without end.
 */
const WATCH_MAX_LINE_LENGTH = 16 * 1024 * 1024;

const WATCH_TYPES: ReadonlySet<string> = new Set(['ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK']);

/**
 * One watch line, or undefined for a blank or cut-off line (a stream ended mid-event: the caller
 * watches again from the last resourceVersion it saw, so the event comes again).
 */
function parseWatchLine(
  line: string,
): { type: WatchEvent<unknown>['type'] | 'ERROR'; object: unknown } | undefined {
  if (line.trim() === '') return undefined;
  try {
    const parsed = JSON.parse(line) as { type?: unknown; object?: unknown };
    return typeof parsed.type === 'string'
      ? { type: parsed.type as WatchEvent<unknown>['type'], object: parsed.object }
      : undefined;
  } catch {
    return undefined;
  }
}

function jobsPath(namespace: string): string {
  return `/apis/batch/v1/namespaces/${segment(namespace)}/jobs`;
}

function podsPath(namespace: string): string {
  return `/api/v1/namespaces/${segment(namespace)}/pods`;
}

function logPath(namespace: string, pod: string): string {
  return `${podsPath(namespace)}/${segment(pod)}/log`;
}

function jobOp(verb: string, namespace: string, name?: string): ApiOperation {
  return { verb, ...JOBS, namespace, ...(name ? { name } : {}) };
}

function podOp(verb: string, namespace: string): ApiOperation {
  return { verb, ...PODS, namespace };
}

function logOp(namespace: string, pod: string): ApiOperation {
  return { verb: 'get', ...POD_LOGS, namespace, name: pod };
}

function logQuery(options: LogOptions, follow: boolean): Query {
  return {
    follow: follow || undefined,
    container: options.container,
    tailLines: options.tailLines,
    sinceTime: options.sinceTime,
    timestamps: options.timestamps || undefined,
  };
}

/**
 * When an event last happened, in ms: `lastTimestamp` (a repeated event counts at its latest
 * occurrence), else `eventTime` (events.k8s.io-style, micro-second precision), else creation. Parsed,
 * because the two formats do not sort as text.
 */
function eventTime(event: KubeEvent): number {
  const stamp =
    event.lastTimestamp ?? event.eventTime ?? event.firstTimestamp ?? event.metadata?.creationTimestamp;
  const ms = stamp ? Date.parse(stamp) : Number.NaN;
  return Number.isNaN(ms) ? 0 : ms;
}

function codeOf(e: unknown): unknown {
  return typeof e === 'object' && e !== null ? (e as { code?: unknown }).code : undefined;
}

function isNotFound(e: unknown): boolean {
  return codeOf(e) === 'API_NOT_FOUND';
}

/** A delete whose uid precondition failed: the Job of that name is another one. */
function notOurJob(op: ApiOperation, uid: string, cause: unknown): ApiError {
  return new ApiError(
    'API_CONFLICT',
    `The Job "${op.name}" in namespace "${op.namespace}" was not deleted: it is not the Job with uid ${uid} ` +
      '(the one this run created or adopted) but another Job of the same name, which is left alone ' +
      '(precondition failed, 409).',
    { status: 409, operation: op, cause },
  );
}

/** The literal env values of every container: they must never show up in an error message. */
function envValues(job: Job): string[] {
  const spec = job.spec?.template.spec;
  const init = Array.isArray(spec?.initContainers) ? (spec.initContainers as Container[]) : [];
  return [...(spec?.containers ?? []), ...init].flatMap((c) =>
    (c.env ?? []).map((e) => e.value).filter((v): v is string => typeof v === 'string'),
  );
}
