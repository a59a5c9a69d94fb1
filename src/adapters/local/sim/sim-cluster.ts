import type { ApiOperation } from '../../../errors/api-error.js';
import type { Clock } from '../../../ports/clock.js';
import type {
  CallOptions,
  DeleteOptions,
  JobClient,
  ListOptions,
  ListResult,
  LogOptions,
  WatchOptions,
} from '../../../ports/job-client.js';
import type { Job, KubeEvent, Pod, WatchEvent } from '../../../types/kube.js';
import {
  alreadyExists,
  gone,
  invalid,
  preconditionFailed,
  type SimResource,
  simOperation,
  tooLargeResourceVersion,
} from './api-errors.js';
import { EventRecorder } from './event-recorder.js';
import { admitJob, validateJob } from './job-admission.js';
import { JobController } from './job-controller.js';
import { type LabelSelector, parseLabelSelector } from './label-selector.js';
import { logWindow } from './log-request.js';
import { NameGenerator } from './name-generator.js';
import { type LogTimestamps, PodLogs } from './pod-logs.js';
import type { PodRunner } from './pod-runner.js';
import { podKey, rfc3339, type SimState } from './sim-state.js';
import { RevisionCounter, type StoredObject, VersionedStore, type WatchStream } from './versioned-store.js';

/** How often a watch that asked for bookmarks gets one, as the API server's watch cache sends them. */
export const BOOKMARK_PERIOD_MS = 60_000;

/** The annotation of the BOOKMARK that ends the initial events of a streaming list. */
export const INITIAL_EVENTS_END_ANNOTATION = 'k8s.io/initial-events-end';

/**
 * What the simulated API server does with a streaming list (`WatchOptions.sendInitialEvents`):
 * `serve` it (Kubernetes >= 1.32 by default), `refuse` it with 422 Invalid (the WatchList feature off,
 * 1.27 to 1.31 by default), or `ignore` the option and serve a plain watch (before 1.27).
 */
export type WatchListSupport = 'serve' | 'refuse' | 'ignore';

/** Options of a {@link SimCluster}. */
export interface SimClusterOptions {
  /** Time for timestamps, `activeDeadlineSeconds` and watch timeouts. */
  clock: Clock;
  /** Runs each pod's main container. */
  runner: PodRunner;
  /** Refuse containers without `image`, as a real API server does. @default true */
  requireImage?: boolean;
  /** Seed of the generated pod names and uids. @default 1 */
  seed?: number;
  /** Watch events kept per kind for watches that resume from a resourceVersion. @default 1000 */
  watchHistory?: number;
  /** Log lines kept per pod. @default 10_000 */
  maxLogLines?: number;
  /** How log lines are timed (see {@link LogTimestamps}). @default 'distinct' */
  logTimestamps?: LogTimestamps;
  /** What a streaming list gets (see {@link WatchListSupport}). @default 'serve' */
  watchList?: WatchListSupport;
}

/**
 * A small, faithful stand-in for the Kubernetes API server and Job controller: versioned Jobs and Pods,
 * label-selected lists (any `resourceVersion`: its state is always the newest), resumable watches (410
 * Gone past the kept history, a BOOKMARK a minute), streaming lists (see {@link WatchListSupport}), Job and
 * pod lifecycles (`spec.suspend` included), deletes with a uid precondition, warning events and pod logs
 * (timestamps, inclusive `sinceTime`, streams that can be cut). What a pod's container does is up to the {@link PodRunner}: child
 * processes for the local backend, scripts on a clock for the in-memory test double.
 * Every method copies what it returns.
 */
export class SimCluster implements JobClient {
  private readonly state: SimState;
  private readonly controller: JobController;
  private readonly requireImage: boolean;
  private readonly watchList: WatchListSupport;

  constructor(options: SimClusterOptions) {
    const revisions = new RevisionCounter();
    this.state = {
      clock: options.clock,
      revisions,
      jobs: new VersionedStore<Job>(revisions, options.watchHistory),
      pods: new VersionedStore<Pod>(revisions, options.watchHistory),
      events: new EventRecorder(),
      logs: new PodLogs(options.maxLogLines, options.logTimestamps),
      names: new NameGenerator(options.seed),
    };
    this.controller = new JobController(this.state, options.runner);
    this.requireImage = options.requireImage ?? true;
    this.watchList = options.watchList ?? 'serve';
  }

  async createJob(
    namespace: string,
    job: Job,
    options: CallOptions & { dryRun?: boolean } = {},
  ): Promise<Job> {
    options.signal?.throwIfAborted();
    const op = simOperation('create', 'jobs', namespace, job.metadata?.name);
    const problems = validateJob(namespace, job, this.requireImage);
    if (problems.length > 0) {
      throw invalid(
        op,
        `Job.batch "${job.metadata?.name ?? ''}" is invalid: ${problems.join('; ')}.`,
        'Fix the Job spec (the executor config that built it) and submit again.',
      );
    }
    const name = job.metadata.name!;
    if (this.state.jobs.get(namespace, name)) throw alreadyExists(op);
    const admitted = admitJob(namespace, job, this.state.names.uid(), rfc3339(this.state.clock.now()));
    if (options.dryRun) return admitted;
    const stored = this.state.jobs.add(admitted);
    this.controller.adopt(stored);
    return stored;
  }

  async getJob(namespace: string, name: string, options: CallOptions = {}): Promise<Job | undefined> {
    options.signal?.throwIfAborted();
    return this.state.jobs.get(namespace, name);
  }

  async listJobs(
    namespace: string,
    labelSelector: string,
    options: ListOptions = {},
  ): Promise<ListResult<Job>> {
    return this.list(this.state.jobs, 'jobs', namespace, labelSelector, options);
  }

  watchJobs(
    namespace: string,
    onEvent: (event: WatchEvent<Job>) => void,
    options: WatchOptions,
  ): Promise<void> {
    return this.watch(this.state.jobs, 'jobs', namespace, onEvent, options, {
      kind: 'Job',
      apiVersion: 'batch/v1',
    });
  }

  async deleteJob(namespace: string, name: string, options: DeleteOptions = {}): Promise<boolean> {
    options.signal?.throwIfAborted();
    const job = this.state.jobs.get(namespace, name);
    if (job && options.uid !== undefined && job.metadata.uid !== options.uid) {
      throw preconditionFailed(
        simOperation('delete', 'jobs', namespace, name),
        options.uid,
        job.metadata.uid,
      );
    }
    return this.deleteNow(namespace, name, options.propagationPolicy ?? 'Foreground');
  }

  /** Deletes a Job at once (its pods follow as their containers stop); false when there is none. */
  deleteNow(namespace: string, name: string, propagation: 'Foreground' | 'Background'): boolean {
    return this.controller.delete(namespace, name, propagation);
  }

  async listPods(
    namespace: string,
    labelSelector: string,
    options: ListOptions = {},
  ): Promise<ListResult<Pod>> {
    return this.list(this.state.pods, 'pods', namespace, labelSelector, options);
  }

  watchPods(
    namespace: string,
    onEvent: (event: WatchEvent<Pod>) => void,
    options: WatchOptions,
  ): Promise<void> {
    return this.watch(this.state.pods, 'pods', namespace, onEvent, options, {
      kind: 'Pod',
      apiVersion: 'v1',
    });
  }

  async readPodLog(namespace: string, pod: string, options: LogOptions = {}): Promise<string> {
    options.signal?.throwIfAborted();
    const window = logWindow(this.state.pods.get(namespace, pod), namespace, pod, options);
    return this.state.logs
      .read(podKey(namespace, pod), window)
      .map((line) => `${line}\n`)
      .join('');
  }

  async followPodLog(
    namespace: string,
    pod: string,
    onLine: (line: string) => void,
    options: LogOptions = {},
  ): Promise<void> {
    options.signal?.throwIfAborted();
    const window = logWindow(this.state.pods.get(namespace, pod), namespace, pod, options);
    return this.state.logs.follow(podKey(namespace, pod), onLine, window, options.signal);
  }

  async listWarningEvents(
    namespace: string,
    object: { kind: 'Job' | 'Pod'; name: string; uid?: string },
    options: CallOptions = {},
  ): Promise<KubeEvent[]> {
    options.signal?.throwIfAborted();
    return this.state.events.list(object.kind, namespace, object.name, object.uid);
  }

  /** Copies of the stored Jobs (all namespaces when none is given). */
  jobs(namespace?: string): Job[] {
    return this.state.jobs.list({ namespace, selector: [] });
  }

  /** Copies of the stored Pods (all namespaces when none is given). */
  pods(namespace?: string): Pod[] {
    return this.state.pods.list({ namespace, selector: [] });
  }

  /** Ends every open watch stream, as an API server dropping its connections. */
  dropWatches(): void {
    this.state.jobs.endWatches();
    this.state.pods.endWatches();
  }

  /** Forgets the watch history: a watch from any version handed out so far is refused with `API_GONE`. */
  expireWatchHistory(): void {
    this.state.jobs.compact();
    this.state.pods.compact();
  }

  /**
   * Cuts every open log follow: each ends as if the connection was closed (or, with `error`, rejects
   * with it: a broken connection) while the containers go on writing. Returns how many were cut.
   */
  cutLogStreams(error?: unknown): number {
    return this.state.logs.cut(error === undefined ? {} : { error });
  }

  /**
   * Sets a Job's `spec.suspend`, as Kueue does to queue a Job or to preempt it: suspending stops its
   * running pods (SIGTERM; they do not count as failed), resuming makes a new pod. False when there is
   * no such Job.
   */
  setSuspended(namespace: string, name: string, suspend: boolean): boolean {
    return this.controller.setSuspended(namespace, name, suspend);
  }

  /**
   * Stops every running container (waiting until each has exited), then ends all watches. Pods that
   * were stopped stay, failed; no new pod starts after this.
   */
  async close(): Promise<void> {
    await this.controller.stop();
    this.dropWatches();
  }

  /**
   * A list of the newest state, whatever `resourceVersion` asks (unset: the latest; `"0"`: any; a
   * version: at least that recent), but a version newer than any handed out: the API server waits a
   * few seconds for its cache, then answers 504.
   */
  private async list<T extends StoredObject>(
    store: VersionedStore<T>,
    resource: SimResource,
    namespace: string,
    labelSelector: string,
    options: ListOptions,
  ): Promise<ListResult<T>> {
    options.signal?.throwIfAborted();
    const op = simOperation('list', resource, namespace);
    const selector = this.parseSelector(labelSelector, op);
    this.notTooLarge(this.parseResourceVersion(options.resourceVersion, op), op);
    return {
      items: store.list({ namespace, selector }),
      resourceVersion: String(this.state.revisions.current),
    };
  }

  private watch<T extends StoredObject>(
    store: VersionedStore<T>,
    resource: SimResource,
    namespace: string,
    onEvent: (event: WatchEvent<T>) => void,
    options: WatchOptions,
    type: { kind: string; apiVersion: string },
  ): Promise<void> {
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(signal.reason);
    const op = simOperation('watch', resource, namespace);
    try {
      const selector = this.parseSelector(options.labelSelector ?? '', op);
      const from = this.parseResourceVersion(options.resourceVersion, op);
      const streamingList = this.streamingList(options, op);
      if (streamingList) this.notTooLarge(from, op);
      const oldest = from === undefined || streamingList ? undefined : store.tooOld(from);
      if (from !== undefined && oldest !== undefined) throw gone(op, from, oldest);
      // A streaming list starts with the newest state (synthetic ADDED events), as a watch without a version.
      const stream = store.watch({ namespace, selector }, streamingList ? undefined : from, onEvent);
      if (streamingList) {
        const resourceVersion = String(this.state.revisions.current);
        stream.bookmark({
          ...type,
          metadata: { resourceVersion, annotations: { [INITIAL_EVENTS_END_ANNOTATION]: 'true' } },
        } as unknown as T);
      }
      const stop = new AbortController();
      const onAbort = () => stream.fail(signal?.reason);
      signal?.addEventListener('abort', onAbort, { once: true });
      if (options.timeoutSeconds !== undefined) {
        // The server ends a watch after its timeout; the client resumes from the last version it saw.
        this.state.clock.sleep(options.timeoutSeconds * 1000, stop.signal).then(
          () => stream.end(),
          () => undefined,
        );
      }
      if (options.allowBookmarks !== false) void this.sendBookmarks(stream, type, stop.signal);
      return stream.done.finally(() => {
        signal?.removeEventListener('abort', onAbort);
        stop.abort();
      });
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** A BOOKMARK every {@link BOOKMARK_PERIOD_MS} with the newest resourceVersion, until `stop`. */
  private async sendBookmarks<T extends StoredObject>(
    stream: WatchStream<T>,
    type: { kind: string; apiVersion: string },
    stop: AbortSignal,
  ): Promise<void> {
    try {
      for (;;) {
        await this.state.clock.sleep(BOOKMARK_PERIOD_MS, stop);
        const resourceVersion = String(this.state.revisions.current);
        stream.bookmark({ ...type, metadata: { resourceVersion } } as unknown as T);
      }
    } catch {
      // The watch ended.
    }
  }

  /**
   * Whether the watch is a streaming list to serve; throws 422 as the API server does when it refuses
   * one (the feature off, or without the bookmarks that end its initial events).
   */
  private streamingList(options: WatchOptions, op: ApiOperation): boolean {
    if (!options.sendInitialEvents || this.watchList === 'ignore') return false;
    if (this.watchList === 'refuse') {
      throw invalid(
        op,
        'ListOptions.meta.k8s.io "" is invalid: sendInitialEvents: Forbidden: sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled.',
        'List, then watch from the list’s resourceVersion.',
      );
    }
    if (options.allowBookmarks === false) {
      throw invalid(
        op,
        'ListOptions.meta.k8s.io "" is invalid: allowWatchBookmarks: Forbidden: sendInitialEvents requires setting allowWatchBookmarks to true.',
        'Ask for bookmarks with a streaming list.',
      );
    }
    return true;
  }

  /** Throws the API server's 504 for a version newer than any handed out. */
  private notTooLarge(version: number | undefined, op: ApiOperation): void {
    const current = this.state.revisions.current;
    if (version !== undefined && version > current) throw tooLargeResourceVersion(op, version, current);
  }

  private parseSelector(labelSelector: string, op: ApiOperation): LabelSelector {
    const parsed = parseLabelSelector(labelSelector);
    if (typeof parsed === 'string') {
      throw invalid(
        op,
        `Invalid label selector "${labelSelector}": ${parsed}.`,
        'Use key=value or key!=value terms joined by commas.',
        400,
      );
    }
    return parsed;
  }

  private parseResourceVersion(resourceVersion: string | undefined, op: ApiOperation): number | undefined {
    if (resourceVersion === undefined || resourceVersion === '' || resourceVersion === '0') return undefined;
    const version = Number(resourceVersion);
    if (!Number.isSafeInteger(version) || version < 0) {
      throw invalid(
        op,
        `Invalid resourceVersion "${resourceVersion}".`,
        'Pass the resourceVersion of a list or of an object.',
        400,
      );
    }
    return version;
  }
}
