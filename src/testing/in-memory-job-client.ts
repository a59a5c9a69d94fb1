import type { LogTimestamps } from '../adapters/local/sim/pod-logs.js';
import { SimCluster, type WatchListSupport } from '../adapters/local/sim/sim-cluster.js';
import type { ApiError } from '../errors/api-error.js';
import { type Clock, systemClock } from '../ports/clock.js';
import type {
  CallOptions,
  DeleteOptions,
  JobClient,
  ListOptions,
  ListResult,
  LogOptions,
  WatchOptions,
} from '../ports/job-client.js';
import type { Job, KubeEvent, Pod, WatchEvent } from '../types/kube.js';
import { type PodScript, ScriptedPodRunner } from './pod-script.js';

/** One request made to an {@link InMemoryJobClient}. */
export interface CallRecord {
  /** The JobClient method. */
  readonly method: keyof JobClient;
  /** The namespace of the call. */
  readonly namespace: string;
  /** The object named by the call (Job, pod, or the events' object), when it named one. */
  readonly name?: string;
  /** The label selector of a list or watch. */
  readonly labelSelector?: string;
  /** The `resourceVersion` a list or watch asked for, when it asked for one. */
  readonly resourceVersion?: string;
  /** True for a streaming list (a watch with `sendInitialEvents`). */
  readonly sendInitialEvents?: true;
  /** The clock's `now()` when the call was made. */
  readonly at: number;
}

/** Options of {@link InMemoryJobClient}. */
export interface InMemoryJobClientOptions {
  /** Drives the pod scripts, `activeDeadlineSeconds`, watch timeouts and timestamps. Use a `FakeClock` in tests. @default systemClock */
  clock?: Clock;
  /** Pod scripts by Job name (see {@link InMemoryJobClient.script}). */
  scripts?: Record<string, PodScript[]>;
  /** The scripts of Jobs that have none of their own. @default [{}] (every pod succeeds at once) */
  defaultScript?: PodScript[];
  /** Seed of the generated pod names and uids. @default 1 */
  seed?: number;
  /**
   * How log lines are timed for `timestamps`/`sinceTime`: `distinct` (each line of a pod at least 1 ns
   * after the one before) or `clock` (the clock's millisecond: lines written together share it). @default 'distinct'
   */
  logTimestamps?: LogTimestamps;
  /**
   * Make the double a client of an API server with streaming lists (`supportsWatchList` true): one that
   * serves them (`serve`, Kubernetes >= 1.32), refuses them with 422 (`refuse`, the feature off) or
   * ignores the option (`ignore`, before 1.27). @default unset: `supportsWatchList` is false, the watch
   * hub lists then watches
   */
  watchList?: WatchListSupport;
}

/**
 * A JobClient with a simulated API server and Job controller inside, for tests: Jobs get pods named
 * `<job>-<5 chars>` that play {@link PodScript}s on the clock, reach `Complete` or `Failed`
 * (`BackoffLimitExceeded`, `DeadlineExceeded`) like on a real cluster, and can be watched from a
 * resourceVersion (with a BOOKMARK every minute) or, with the `watchList` option, synced by streaming
 * list (`sendInitialEvents`: served, refused or ignored). It records every call and can inject API errors, drop
 * watches, expire the watch history, cut log streams and suspend or resume Jobs (Kueue). Log reads
 * honour `timestamps`, `sinceTime` (inclusive, whole seconds as the API server passes it on) and
 * `tailLines`; deletes honour `uid` (`preconditions.uid`). Everything it returns is a copy.
 *
 * Note: pod scripts, deadlines, watch `timeoutSeconds` and bookmarks sleep on the clock, so they show
 * in `FakeClock.sleeps`.
 *
 * @example
 * const clock = new FakeClock();
 * const client = new InMemoryJobClient({ clock, scripts: { 'etl-1': [{ runMs: 1_000, exitCode: 3 }] } });
 * const job: Job = {
 *   metadata: { name: 'etl-1' },
 *   spec: {
 *     backoffLimit: 0, // Kubernetes' default is 6: the Job would fail only after its 7th pod
 *     template: { spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'x/y:1' }] } },
 *   },
 * };
 * await client.createJob('default', job);
 * await clock.advance(1_000);
 * client.jobs()[0]?.status?.conditions; // FailureTarget, then Failed (BackoffLimitExceeded)
 */
export class InMemoryJobClient implements JobClient {
  /** True when {@link InMemoryJobClientOptions.watchList} is set. */
  readonly supportsWatchList: boolean;
  private readonly cluster: SimCluster;
  private readonly clock: Clock;
  private readonly scripts = new Map<string, PodScript[]>();
  private readonly defaultScript: PodScript[];
  private readonly callLog: CallRecord[] = [];
  private readonly created: Job[] = [];
  private readonly failures: { method: keyof JobClient; error: ApiError; remaining: number }[] = [];
  private readonly predicates: ((call: CallRecord) => ApiError | undefined)[] = [];

  constructor(options: InMemoryJobClientOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.defaultScript = options.defaultScript ?? [{}];
    for (const [jobName, pods] of Object.entries(options.scripts ?? {})) this.script(jobName, pods);
    const runner = new ScriptedPodRunner(
      this.clock,
      (jobName) => this.scripts.get(jobName) ?? this.defaultScript,
    );
    this.supportsWatchList = options.watchList !== undefined;
    this.cluster = new SimCluster({
      clock: this.clock,
      runner,
      ...(options.seed !== undefined ? { seed: options.seed } : {}),
      ...(options.logTimestamps !== undefined ? { logTimestamps: options.logTimestamps } : {}),
      ...(options.watchList !== undefined ? { watchList: options.watchList } : {}),
    });
  }

  /** Every request made, in order: for asserting API economy. */
  get calls(): readonly CallRecord[] {
    return this.callLog;
  }

  /** Copies of the Job bodies passed to `createJob`, in order (refused ones included). */
  get createdJobs(): readonly Job[] {
    return this.created;
  }

  /** Sets what the pods of Job `jobName` do, in order (attempt 1, 2, ...; the last one repeats). */
  script(jobName: string, pods: PodScript[]): void {
    this.scripts.set(jobName, structuredClone(pods));
  }

  /** Makes the next `count` calls of `method` reject with `error`. @default count 1 */
  failNext(method: keyof JobClient, error: ApiError, count = 1): void {
    this.failures.push({ method, error, remaining: count });
  }

  /** Makes every call for which `predicate` returns an error reject with it (until {@link InMemoryJobClient.clearFailures}). */
  failWhen(predicate: (call: CallRecord) => ApiError | undefined): void {
    this.predicates.push(predicate);
  }

  /** Forgets every error injected with {@link InMemoryJobClient.failNext} and {@link InMemoryJobClient.failWhen}. */
  clearFailures(): void {
    this.failures.length = 0;
    this.predicates.length = 0;
  }

  /** Ends every open watch stream, as an API server dropping its connections. */
  dropWatches(): void {
    this.cluster.dropWatches();
  }

  /** Forgets the watch history: a watch from any resourceVersion handed out so far rejects with `API_GONE`. */
  expireWatchHistory(): void {
    this.cluster.expireWatchHistory();
  }

  /**
   * Cuts every open log follow, as a proxy's idle timeout or an API server restart does: each stream
   * ends as if closed (with `error`: rejects with it, a broken connection) while the containers go on
   * writing. Returns how many streams were cut.
   */
  cutLogStreams(error?: ApiError): number {
    return this.cluster.cutLogStreams(error);
  }

  /**
   * Suspends a Job (`spec.suspend: true`), as Kueue preempts a workload: its running pods are stopped
   * (they do not count as failed) and no new one is made until {@link InMemoryJobClient.resumeJob}. False when there is
   * no such Job. Not recorded as a call.
   */
  suspendJob(namespace: string, name: string): boolean {
    return this.cluster.setSuspended(namespace, name, true);
  }

  /** Resumes a suspended Job (`spec.suspend: false`), as Kueue admits it: a new pod is made. */
  resumeJob(namespace: string, name: string): boolean {
    return this.cluster.setSuspended(namespace, name, false);
  }

  /** Deletes a Job as someone else would (`kubectl delete job`, background propagation). Not recorded as a call. */
  deleteFromOutside(namespace: string, name: string): void {
    this.cluster.deleteNow(namespace, name, 'Background');
  }

  /** Copies of the stored Jobs (all namespaces when none is given). */
  jobs(namespace?: string): Job[] {
    return this.cluster.jobs(namespace);
  }

  /** Copies of the stored Pods (all namespaces when none is given). */
  pods(namespace?: string): Pod[] {
    return this.cluster.pods(namespace);
  }

  /** Stops every pod still running and ends the open watches. */
  close(): Promise<void> {
    return this.cluster.close();
  }

  /** {@link JobClient.createJob}, recorded in {@link InMemoryJobClient.calls} and {@link InMemoryJobClient.createdJobs}; an injected error rejects it. */
  createJob(namespace: string, job: Job, options?: CallOptions & { dryRun?: boolean }): Promise<Job> {
    this.created.push(structuredClone(job));
    return this.call({ method: 'createJob', namespace, name: job.metadata?.name }, () =>
      this.cluster.createJob(namespace, job, options),
    );
  }

  /** {@link JobClient.getJob}, recorded in {@link InMemoryJobClient.calls}; an injected error rejects it. */
  getJob(namespace: string, name: string, options?: CallOptions): Promise<Job | undefined> {
    return this.call({ method: 'getJob', namespace, name }, () =>
      this.cluster.getJob(namespace, name, options),
    );
  }

  /** {@link JobClient.listJobs}, recorded in {@link InMemoryJobClient.calls}; an injected error rejects it. */
  listJobs(namespace: string, labelSelector: string, options?: ListOptions): Promise<ListResult<Job>> {
    const { resourceVersion } = options ?? {};
    return this.call({ method: 'listJobs', namespace, labelSelector, resourceVersion }, () =>
      this.cluster.listJobs(namespace, labelSelector, options),
    );
  }

  /** {@link JobClient.watchJobs}, recorded in {@link InMemoryJobClient.calls}; an injected error rejects it. */
  watchJobs(
    namespace: string,
    onEvent: (event: WatchEvent<Job>) => void,
    options: WatchOptions,
  ): Promise<void> {
    return this.call({ method: 'watchJobs', namespace, ...watchCall(options) }, () =>
      this.cluster.watchJobs(namespace, onEvent, options),
    );
  }

  /** Deletes a Job (Foreground by default); with `uid`, only that Job (else `API_CONFLICT`). */
  deleteJob(namespace: string, name: string, options?: DeleteOptions): Promise<boolean> {
    return this.call({ method: 'deleteJob', namespace, name }, () =>
      this.cluster.deleteJob(namespace, name, options),
    );
  }

  /** {@link JobClient.listPods}, recorded in {@link InMemoryJobClient.calls}; an injected error rejects it. */
  listPods(namespace: string, labelSelector: string, options?: ListOptions): Promise<ListResult<Pod>> {
    const { resourceVersion } = options ?? {};
    return this.call({ method: 'listPods', namespace, labelSelector, resourceVersion }, () =>
      this.cluster.listPods(namespace, labelSelector, options),
    );
  }

  /** {@link JobClient.watchPods}, recorded in {@link InMemoryJobClient.calls}; an injected error rejects it. */
  watchPods(
    namespace: string,
    onEvent: (event: WatchEvent<Pod>) => void,
    options: WatchOptions,
  ): Promise<void> {
    return this.call({ method: 'watchPods', namespace, ...watchCall(options) }, () =>
      this.cluster.watchPods(namespace, onEvent, options),
    );
  }

  /** {@link JobClient.readPodLog}, recorded in {@link InMemoryJobClient.calls}; an injected error rejects it. */
  readPodLog(namespace: string, pod: string, options?: LogOptions): Promise<string> {
    return this.call({ method: 'readPodLog', namespace, name: pod }, () =>
      this.cluster.readPodLog(namespace, pod, options),
    );
  }

  /** {@link JobClient.followPodLog}, recorded in {@link InMemoryJobClient.calls}; an injected error rejects it. */
  followPodLog(
    namespace: string,
    pod: string,
    onLine: (line: string) => void,
    options?: LogOptions,
  ): Promise<void> {
    return this.call({ method: 'followPodLog', namespace, name: pod }, () =>
      this.cluster.followPodLog(namespace, pod, onLine, options),
    );
  }

  /** {@link JobClient.listWarningEvents}, recorded in {@link InMemoryJobClient.calls}; an injected error rejects it. */
  listWarningEvents(
    namespace: string,
    object: { kind: 'Job' | 'Pod'; name: string; uid?: string },
    options?: CallOptions,
  ): Promise<KubeEvent[]> {
    return this.call({ method: 'listWarningEvents', namespace, name: object.name }, () =>
      this.cluster.listWarningEvents(namespace, object, options),
    );
  }

  /** Records the call, then rejects with an injected error or runs it. */
  private call<T>(
    request: Pick<CallRecord, 'method' | 'namespace' | 'sendInitialEvents'> & {
      name?: string | undefined;
      labelSelector?: string | undefined;
      resourceVersion?: string | undefined;
    },
    run: () => Promise<T>,
  ): Promise<T> {
    const record: CallRecord = {
      method: request.method,
      namespace: request.namespace,
      ...(request.name !== undefined ? { name: request.name } : {}),
      ...(request.labelSelector !== undefined ? { labelSelector: request.labelSelector } : {}),
      ...(request.resourceVersion !== undefined ? { resourceVersion: request.resourceVersion } : {}),
      ...(request.sendInitialEvents ? { sendInitialEvents: true as const } : {}),
      at: this.clock.now(),
    };
    this.callLog.push(record);
    const error = this.injectedError(record);
    return error ? Promise.reject(error) : run();
  }

  private injectedError(call: CallRecord): ApiError | undefined {
    const queued = this.failures.find((f) => f.method === call.method);
    if (queued) {
      queued.remaining -= 1;
      if (queued.remaining <= 0) this.failures.splice(this.failures.indexOf(queued), 1);
      return queued.error;
    }
    for (const predicate of this.predicates) {
      const error = predicate(call);
      if (error) return error;
    }
    return undefined;
  }
}

/** What a call record keeps of a watch's options. */
function watchCall(options: WatchOptions): Pick<CallRecord, 'sendInitialEvents'> & {
  labelSelector?: string | undefined;
  resourceVersion?: string | undefined;
} {
  return {
    labelSelector: options.labelSelector,
    resourceVersion: options.resourceVersion,
    ...(options.sendInitialEvents ? { sendInitialEvents: true as const } : {}),
  };
}
