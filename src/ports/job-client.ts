import type { Job, KubeEvent, Pod, WatchEvent } from '../types/kube.js';

/** Options every call accepts. */
export interface CallOptions {
  /** Aborts the call. */
  signal?: AbortSignal;
}

/** A list result with the resourceVersion to start a watch from. */
export interface ListResult<T> {
  /** The objects. */
  items: T[];
  /** The list's `metadata.resourceVersion`. */
  resourceVersion: string;
}

/** Options of a list. */
export interface ListOptions extends CallOptions {
  /**
   * The list's `resourceVersion` (the API's parameter; a paginated list sends it with its first page).
   * Unset: the most recent state, a consistent read (from etcd, or from the watch cache when it is
   * provably up to date, Kubernetes >= 1.31). `"0"`: whatever state the API server has at hand, served
   * from its watch cache without reading etcd: much cheaper for a large namespace, but it may lag by
   * seconds (a Job created a moment ago may be missing) and a second list may even be older than the
   * first (another API server instance). Any other version: a state at least that recent.
   */
  resourceVersion?: string;
}

/** Options of a watch. */
export interface WatchOptions extends CallOptions {
  /** Label selector, e.g. `app.kubernetes.io/managed-by=k8s-executor`. */
  labelSelector?: string;
  /** Resume from this resourceVersion (events after it). */
  resourceVersion?: string;
  /** Ask the server for BOOKMARK events. @default true */
  allowBookmarks?: boolean;
  /** Server-side timeout of the watch request, in seconds. */
  timeoutSeconds?: number;
  /**
   * Ask for a streaming list (the API server's "watch-list": `sendInitialEvents=true` with
   * `resourceVersionMatch=NotOlderThan`): the watch starts with one `ADDED` event per object that
   * exists (at least as recent as `resourceVersion`, or the latest state when it is unset), then a
   * `BOOKMARK` whose `metadata.annotations["k8s.io/initial-events-end"]` is `"true"` and whose
   * resourceVersion is the one of that state, then goes on as any watch. It replaces a list: the API
   * server answers it from its watch cache, object by object, without reading everything from etcd
   * at once. A server without the feature refuses it with `API_INVALID` (422, Kubernetes < 1.32 by
   * default), and one that does not know it (before 1.27) sends no such bookmark. Only send it to a
   * client whose {@link JobClient.supportsWatchList} is true. @default false
   */
  sendInitialEvents?: boolean;
}

/** Options of a log read. */
export interface LogOptions extends CallOptions {
  /** The container; defaults to the pod's only container. */
  container?: string;
  /** Only the last N lines. */
  tailLines?: number;
  /** Only lines written at or after this RFC 3339 time (the API's `sinceTime`; the instant itself is included). */
  sinceTime?: string;
  /**
   * Prefix every line with the time the container wrote it and a space (the API's `timestamps=true`,
   * RFC 3339 with nanoseconds, e.g. `2026-12-01T20:13:42.123456789Z hello`). A follow that broke resumes
   * from the last timestamp seen with `sinceTime`; the lines stamped at that instant come again.
   */
  timestamps?: boolean;
  /**
   * How a follow reports a stream that breaks mid-way (connection reset, cut by a proxy or load
   * balancer) rather than being ended by the server. false (the default): it resolves as if the server
   * had ended it. true: it rejects with a transient `API_UNAVAILABLE`. Either way every complete line
   * before the break has been delivered, and the cut-off text after the last newline has not (a follow
   * resumed with `sinceTime` gets that line whole). Implementations that cannot tell resolve.
   */
  failOnBrokenStream?: boolean;
}

/** Options of a delete. */
export interface DeleteOptions extends CallOptions {
  /** `Foreground` (the Job goes once its pods are gone) or `Background`. @default 'Foreground' */
  propagationPolicy?: 'Foreground' | 'Background';
  /**
   * Delete only the Job with this uid (the API's `preconditions.uid`): a Job of the same name with
   * another uid (a foreign one, or a newer one) is left alone and the call rejects with `API_CONFLICT`.
   */
  uid?: string;
}

/**
 * Everything the executor asks of Kubernetes. Implementations: the client-node adapter (a real
 * cluster), the embedded local backend (child processes), and the in-memory double of
 * `k8s-executor/testing`.
 *
 * Errors: every method rejects with an `ApiError` whose `code` classifies the failure
 * (`API_NOT_FOUND`, `API_CONFLICT`, `API_FORBIDDEN`, `API_GONE`, `API_UNAVAILABLE`, ...), never with a
 * client library's own error. An aborted call rejects with the signal's reason.
 */
export interface JobClient {
  /**
   * True when `watchJobs`/`watchPods` pass {@link WatchOptions.sendInitialEvents} on to the server (which
   * may still refuse it). The watch hub asks for streaming lists only from such a client; the others are
   * listed, then watched. @default false
   */
  readonly supportsWatchList?: boolean;
  /** Creates a Job. Rejects with `API_CONFLICT` when a Job of that name exists. `dryRun` asks for server-side validation only. */
  createJob(namespace: string, job: Job, options?: CallOptions & { dryRun?: boolean }): Promise<Job>;
  /** Reads a Job; resolves undefined when it does not exist. */
  getJob(namespace: string, name: string, options?: CallOptions): Promise<Job | undefined>;
  /** Lists Jobs matching a label selector (all of them: a paginated list is read to its end). */
  listJobs(namespace: string, labelSelector: string, options?: ListOptions): Promise<ListResult<Job>>;
  /**
   * Watches Jobs. Calls `onEvent` for each event, in order, and resolves when the server ends the
   * stream. Rejects with `API_GONE` when the resourceVersion is too old (relist, then watch again).
   */
  watchJobs(
    namespace: string,
    onEvent: (event: WatchEvent<Job>) => void,
    options: WatchOptions,
  ): Promise<void>;
  /**
   * Deletes a Job and (by propagation) its pods. Resolves false when it was already gone. With `uid`,
   * rejects with `API_CONFLICT` when the Job of that name is another one. @default propagation Foreground
   */
  deleteJob(namespace: string, name: string, options?: DeleteOptions): Promise<boolean>;
  /** Lists Pods matching a label selector (a Job's pods carry `job-name=<job>`); like {@link JobClient.listJobs}. */
  listPods(namespace: string, labelSelector: string, options?: ListOptions): Promise<ListResult<Pod>>;
  /** Watches Pods; same contract as {@link JobClient.watchJobs}. */
  watchPods(
    namespace: string,
    onEvent: (event: WatchEvent<Pod>) => void,
    options: WatchOptions,
  ): Promise<void>;
  /** Reads a pod's log once. */
  readPodLog(namespace: string, pod: string, options?: LogOptions): Promise<string>;
  /**
   * Follows a pod's log: calls `onLine` for each complete line (without the newline) until the
   * container ends, the server closes the stream, or the signal aborts.
   */
  followPodLog(
    namespace: string,
    pod: string,
    onLine: (line: string) => void,
    options?: LogOptions,
  ): Promise<void>;
  /** Lists the `Warning` events of one object (a Job or a Pod), oldest first. */
  listWarningEvents(
    namespace: string,
    object: { kind: 'Job' | 'Pod'; name: string; uid?: string },
    options?: CallOptions,
  ): Promise<KubeEvent[]>;
}
