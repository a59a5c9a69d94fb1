/**
 * A JobClient whose list and watch calls the test drives by hand: lists answer from `jobs`/`pods`
 * (the "server" state) or reject with the next queued error; each watch call is a {@link ScriptedWatch}
 * that emits, ends or fails when the test says so. Everything else rejects: the hub must not use it.
 */
import { ApiError } from '../../src/errors/api-error.js';
import type { ErrorCode } from '../../src/errors/codes.js';
import type { JobClient, ListOptions, ListResult, WatchOptions } from '../../src/ports/job-client.js';
import type { Job, Pod, WatchEvent } from '../../src/types/kube.js';

export class ScriptedWatch<T> {
  readonly done: Promise<void>;
  private settle!: { resolve: () => void; reject: (e: unknown) => void };
  private closed = false;

  constructor(
    private readonly onEvent: (event: WatchEvent<T>) => void,
    readonly options: WatchOptions,
  ) {
    this.done = new Promise<void>((resolve, reject) => {
      this.settle = { resolve, reject };
    });
    options.signal?.addEventListener(
      'abort',
      () => this.close(() => this.settle.reject(options.signal?.reason)),
      {
        once: true,
      },
    );
  }

  /** Whether the stream is still open (not ended, failed or aborted). */
  get open(): boolean {
    return !this.closed;
  }

  /** Whether the hub aborted it. */
  get aborted(): boolean {
    return this.options.signal?.aborted === true;
  }

  emit(type: WatchEvent<T>['type'], object: T): void {
    if (this.closed) throw new Error('emit on a closed watch');
    this.onEvent({ type, object });
  }

  /** The server ends the stream normally (timeout, dropped connection). */
  end(): void {
    this.close(() => this.settle.resolve());
  }

  /** The watch request fails. */
  fail(error: unknown): void {
    this.close(() => this.settle.reject(error));
  }

  private close(action: () => void): void {
    if (this.closed) return;
    this.closed = true;
    action();
  }
}

/** An ApiError as the client-node adapter would classify it. */
export function apiError(code: ErrorCode, status: number, transient: boolean): ApiError {
  return new ApiError(code, `watch jobs failed with HTTP ${status}`, {
    status,
    transient,
    operation: { verb: 'watch', resource: 'jobs', group: 'batch', namespace: 'etl' },
  });
}

export const gone = () => apiError('API_GONE', 410, false);
export const unavailable = () => apiError('API_UNAVAILABLE', 503, true);
export const forbidden = () => apiError('API_FORBIDDEN', 403, false);
export const unauthorized = () => apiError('API_UNAUTHORIZED', 401, false);

export class ScriptedJobClient implements JobClient {
  /** Whether the hub may ask for streaming lists (the test then plays them on the watch). */
  supportsWatchList = false;
  /** When set, a streaming list is refused with it (as an API server with the WatchList feature off). */
  watchListRefusal: unknown;
  /** The options of every list, in order. */
  readonly listOptions: ListOptions[] = [];
  /** Server state answered by lists, by name. */
  readonly jobs = new Map<string, Job>();
  readonly pods = new Map<string, Pod>();
  /** resourceVersion of the next list answers. */
  listVersion = '100';
  /** While set, list answers are held until it resolves (a slow list, served before later events). */
  listGate: Promise<void> | undefined;
  /** Errors the next list calls reject with, in order. */
  readonly listFailures: unknown[] = [];
  /** Errors the next Jobs (Pods) lists reject with, in order, before {@link listFailures}. */
  readonly jobListFailures: unknown[] = [];
  readonly podListFailures: unknown[] = [];
  readonly calls: string[] = [];
  readonly jobWatches: ScriptedWatch<Job>[] = [];
  readonly podWatches: ScriptedWatch<Pod>[] = [];

  count(call: string): number {
    return this.calls.filter((c) => c === call).length;
  }

  /** The newest Jobs watch. */
  get jobWatch(): ScriptedWatch<Job> {
    const w = this.jobWatches.at(-1);
    if (!w) throw new Error('no Jobs watch was started');
    return w;
  }

  get podWatch(): ScriptedWatch<Pod> {
    const w = this.podWatches.at(-1);
    if (!w) throw new Error('no Pods watch was started');
    return w;
  }

  setJob(job: Job): void {
    this.jobs.set(job.metadata.name ?? '', job);
  }

  setPod(pod: Pod): void {
    this.pods.set(pod.metadata.name ?? '', pod);
  }

  listJobs(_namespace: string, _selector: string, options: ListOptions = {}): Promise<ListResult<Job>> {
    this.calls.push('listJobs');
    this.listOptions.push(options);
    return this.answer([...this.jobs.values()], this.jobListFailures);
  }

  listPods(_namespace: string, _selector: string, options: ListOptions = {}): Promise<ListResult<Pod>> {
    this.calls.push('listPods');
    this.listOptions.push(options);
    return this.answer([...this.pods.values()], this.podListFailures);
  }

  watchJobs(
    _namespace: string,
    onEvent: (event: WatchEvent<Job>) => void,
    options: WatchOptions,
  ): Promise<void> {
    this.calls.push('watchJobs');
    if (options.sendInitialEvents && this.watchListRefusal) return Promise.reject(this.watchListRefusal);
    const watch = new ScriptedWatch(onEvent, options);
    this.jobWatches.push(watch);
    return watch.done;
  }

  watchPods(
    _namespace: string,
    onEvent: (event: WatchEvent<Pod>) => void,
    options: WatchOptions,
  ): Promise<void> {
    this.calls.push('watchPods');
    if (options.sendInitialEvents && this.watchListRefusal) return Promise.reject(this.watchListRefusal);
    const watch = new ScriptedWatch(onEvent, options);
    this.podWatches.push(watch);
    return watch.done;
  }

  createJob(): Promise<Job> {
    return this.unscripted('createJob');
  }
  getJob(): Promise<Job | undefined> {
    return this.unscripted('getJob');
  }
  deleteJob(): Promise<boolean> {
    return this.unscripted('deleteJob');
  }
  readPodLog(): Promise<string> {
    return this.unscripted('readPodLog');
  }
  followPodLog(): Promise<void> {
    return this.unscripted('followPodLog');
  }
  listWarningEvents(): Promise<never[]> {
    return this.unscripted('listWarningEvents');
  }

  private answer<T>(items: T[], failures: unknown[]): Promise<ListResult<T>> {
    if (failures.length > 0) return Promise.reject(failures.shift());
    if (this.listFailures.length > 0) return Promise.reject(this.listFailures.shift());
    const answer = { items, resourceVersion: this.listVersion };
    // Served now (the server's state at this moment), delivered when the gate opens.
    const gate = this.listGate;
    return gate ? gate.then(() => answer) : Promise.resolve(answer);
  }

  private unscripted(call: string): Promise<never> {
    this.calls.push(call);
    return Promise.reject(new Error(`${call} is not scripted: the monitor must not call it`));
  }
}
