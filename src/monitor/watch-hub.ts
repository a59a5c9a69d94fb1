import { K8sExecutorError } from '../errors/base.js';
import { isolateCallback } from '../errors/isolate-callback.js';
import type { Clock } from '../ports/clock.js';
import type { JobClient } from '../ports/job-client.js';
import type { Job, Pod } from '../types/kube.js';
import { ListHealth, type Unlistable, withMessage } from './list-health.js';
import { type CacheChange, type HubEvent, Reflector, type ReflectorStat } from './reflector.js';
import type { Observation } from './types.js';

export type { HubEvent } from './reflector.js';

/** Settings of a {@link WatchHub}. */
export interface WatchHubOptions {
  /** Where the Jobs and pods are listed and watched. */
  jobClient: JobClient;
  /** Every wait (backoff, polling) goes through it. */
  clock: Clock;
  /** The namespace watched. */
  namespace: string;
  /** Which Jobs and pods, e.g. `app.kubernetes.io/managed-by=k8s-executor`. */
  labelSelector: string;
  /** Reconnect backoff after a failed watch. @default { initialMs: 1000, maxMs: 30_000 } */
  reconnect?: { initialMs?: number; maxMs?: number };
  /** How often lists are polled while the watch keeps failing. @default 10_000 */
  pollIntervalMs?: number;
  /** Server-side timeout of each watch request, after which it is resumed. @default 300 */
  watchTimeoutSeconds?: number;
  /**
   * A watch that delivers no event and no bookmark this long is treated as broken (a connection that
   * died without closing) and resumed. The API server sends a bookmark about once a minute to watches
   * that ask for them, as ours do. @default 75_000
   */
  silentWatchMs?: number;
  /**
   * How long a namespace that was listable may have every list refused (401, 403, 404) before the
   * blocks followed there fail; a single refused list is only retried. A namespace never listed fails
   * them at the first refusal (RBAC missing). @default 300_000 (5 min)
   */
  unlistableTimeoutMs?: number;
  /** Reports lists, (re)watches, waits and errors: for logs and metrics. A throw is reported once and ignored. */
  onHubEvent?: (event: HubEvent) => void;
}

/** The default of {@link WatchHubOptions.silentWatchMs}: the API server's one-minute bookmarks, plus slack. */
export const DEFAULT_SILENT_WATCH_MS = 75_000;

/** The default of {@link WatchHubOptions.unlistableTimeoutMs}. */
export const DEFAULT_UNLISTABLE_TIMEOUT_MS = 300_000;

/** Counters of a hub's API traffic. */
export interface WatchHubStats {
  /** List calls of any kind (first list, relists, polls). */
  lists: number;
  /** Watch requests started. */
  watches: number;
  /** Relists forced by 410 Gone. */
  relists: number;
  /** Backoff waits before a watch was retried. */
  reconnects: number;
  /** Lists made by the polling fallback. */
  polls: number;
}

/** A subscription; `dispose()` is idempotent. */
export interface HubSubscription {
  dispose(): void;
}

type Listener = (observation: Observation) => void;

/** One run of the shared watches, from the first subscriber to the last. */
interface Session {
  stop: AbortController;
  jobs: Reflector<Job>;
  pods: Reflector<Pod>;
}

/**
 * ONE Jobs watch and ONE Pods watch for a namespace and a label selector, shared by every block
 * running there: the API cost does not grow with the number of blocks. The watches start with the
 * first subscriber and stop with the last; see `Reflector` for the list/watch/410/backoff/polling
 * rules. Errors go to `onHubEvent` and never crash the process.
 *
 * @example
 * const hub = new WatchHub({ jobClient, clock, namespace: 'etl', labelSelector: 'app.kubernetes.io/managed-by=k8s-executor' });
 * const sub = hub.subscribe('mage-data-prep-block-42', (o) => console.log(o.kind));
 * sub.dispose();
 */
export class WatchHub {
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly counters: WatchHubStats = { lists: 0, watches: 0, relists: 0, reconnects: 0, polls: 0 };
  /** Whether Jobs and Pods can be listed: outlives sessions, so a new session's first list is not "the first". */
  private readonly health: Readonly<Record<'jobs' | 'pods', ListHealth>>;
  private readonly onHubEvent: ((event: HubEvent) => void) | undefined;
  private session: Session | undefined;

  /** Does no IO. */
  constructor(private readonly options: WatchHubOptions) {
    const bound = options.unlistableTimeoutMs ?? DEFAULT_UNLISTABLE_TIMEOUT_MS;
    this.health = { jobs: new ListHealth(bound), pods: new ListHealth(bound) };
    this.onHubEvent = isolateCallback('onHubEvent', options.onHubEvent);
  }

  /** A copy of the hub's counters. */
  get stats(): Readonly<WatchHubStats> {
    return { ...this.counters };
  }

  /**
   * Observations for one Job and its pods (pods matched by the `batch.kubernetes.io/job-name` or
   * `job-name` label, or their controlling Job). Starts the shared list+watch on the first subscriber
   * and stops it when the last one leaves. Replays the cached Job and pods of that name at once,
   * synchronously, before returning.
   */
  subscribe(jobName: string, listener: (observation: Observation) => void): HubSubscription {
    let forJob = this.listeners.get(jobName);
    if (!forJob) {
      forJob = new Set();
      this.listeners.set(jobName, forJob);
    }
    const own: Listener = (o) => listener(o);
    forJob.add(own);
    if (this.session) this.replay(this.session, jobName, own);
    else this.session = this.start();
    let disposed = false;
    return {
      dispose: () => {
        if (disposed) return;
        disposed = true;
        this.unsubscribe(jobName, own);
      },
    };
  }

  /**
   * Stops the watches and forgets every subscriber, telling each that its Job can no longer be
   * observed (so no follow waits forever). A later `subscribe` starts afresh.
   */
  close(): void {
    const at = this.options.clock.now();
    const closed = new K8sExecutorError('CANCELLED', 'The executor was closed while this block was running.');
    const listeners = [...this.listeners.values()].flatMap((set) => [...set]);
    this.listeners.clear();
    this.stop();
    for (const listener of listeners) this.call(listener, { kind: 'unobservable', error: closed, at });
  }

  private unsubscribe(jobName: string, listener: Listener): void {
    const forJob = this.listeners.get(jobName);
    forJob?.delete(listener);
    if (forJob?.size === 0) this.listeners.delete(jobName);
    if (this.listeners.size === 0) this.stop();
  }

  private start(): Session {
    const { jobClient, clock, namespace, labelSelector } = this.options;
    const stop = new AbortController();
    const common = {
      clock,
      reconnect: this.options.reconnect ?? {},
      pollIntervalMs: this.options.pollIntervalMs ?? 10_000,
      silentWatchMs: this.options.silentWatchMs ?? DEFAULT_SILENT_WATCH_MS,
      onHubEvent: (event: HubEvent) => this.onHubEvent?.(event),
      count: (stat: ReflectorStat) => {
        this.counters[stat]++;
      },
    };
    // Every follow of this namespace is blind: tell them all, so none waits for what it cannot see.
    const onUnlistable = (resource: 'jobs' | 'pods') => (error: unknown, why: Unlistable) => {
      const at = clock.now();
      const unobservable = why === 'bound' ? withMessage(error, this.refusedFor(resource)) : error;
      for (const jobName of [...this.listeners.keys()])
        this.deliver(jobName, { kind: 'unobservable', error: unobservable, at });
    };
    const watchOptions = (resourceVersion: string, signal: AbortSignal) => ({
      labelSelector,
      resourceVersion,
      allowBookmarks: true,
      timeoutSeconds: this.options.watchTimeoutSeconds ?? 300,
      signal,
    });
    const jobs = new Reflector<Job>({
      ...common,
      resource: 'jobs',
      listHealth: this.health.jobs,
      onUnlistable: onUnlistable('jobs'),
      list: (signal) => jobClient.listJobs(namespace, labelSelector, { signal }),
      watch: (onEvent, rv, signal) => jobClient.watchJobs(namespace, onEvent, watchOptions(rv, signal)),
      onChange: (change) => this.deliverJob(change),
    });
    const pods = new Reflector<Pod>({
      ...common,
      resource: 'pods',
      listHealth: this.health.pods,
      onUnlistable: onUnlistable('pods'),
      list: (signal) => jobClient.listPods(namespace, labelSelector, { signal }),
      watch: (onEvent, rv, signal) => jobClient.watchPods(namespace, onEvent, watchOptions(rv, signal)),
      onChange: (change) => this.deliverPod(change),
    });
    void jobs.run(stop.signal);
    void pods.run(stop.signal);
    return { stop, jobs, pods };
  }

  private stop(): void {
    this.session?.stop.abort();
    this.session = undefined;
  }

  private refusedFor(resource: 'jobs' | 'pods'): string {
    const bound = this.options.unlistableTimeoutMs ?? DEFAULT_UNLISTABLE_TIMEOUT_MS;
    return `Every list of ${resource} in namespace "${this.options.namespace}" was refused for ${Math.round(bound / 1000)} s, so the blocks there cannot be followed.`;
  }

  private replay(session: Session, jobName: string, listener: Listener): void {
    const at = this.options.clock.now();
    const job = session.jobs.get(jobName);
    if (job) this.call(listener, { kind: 'job', job, at });
    for (const pod of session.pods.values()) {
      if (jobNameOfPod(pod) === jobName) this.call(listener, { kind: 'pod', pod, at });
    }
  }

  private deliverJob(change: CacheChange<Job>): void {
    const at = this.options.clock.now();
    const observation: Observation =
      change.type === 'upsert'
        ? { kind: 'job', job: change.object, at }
        : {
            kind: 'job-deleted',
            at,
            ...(change.object.metadata.uid ? { uid: change.object.metadata.uid } : {}),
            ...(change.object.metadata.resourceVersion
              ? { resourceVersion: change.object.metadata.resourceVersion }
              : {}),
          };
    this.deliver(change.object.metadata.name, observation);
  }

  private deliverPod(change: CacheChange<Pod>): void {
    const at = this.options.clock.now();
    const observation: Observation =
      change.type === 'upsert'
        ? { kind: 'pod', pod: change.object, at }
        : { kind: 'pod-deleted', podName: change.object.metadata.name ?? '', at };
    this.deliver(jobNameOfPod(change.object), observation);
  }

  private deliver(jobName: string | undefined, observation: Observation): void {
    if (jobName === undefined) return;
    for (const listener of [...(this.listeners.get(jobName) ?? [])]) this.call(listener, observation);
  }

  /** Calls one listener; a throwing one is reported and does not stop the others. */
  private call(listener: Listener, observation: Observation): void {
    try {
      listener(observation);
    } catch (error) {
      this.onHubEvent?.({
        type: 'error',
        resource: observation.kind.startsWith('pod') ? 'pods' : 'jobs',
        detail: 'a subscriber threw',
        error,
      });
    }
  }
}

/** One {@link WatchHub} per namespace, made on first use, all with the same settings. */
export class WatchHubs {
  private readonly hubs = new Map<string, WatchHub>();

  /** Does no IO. */
  constructor(private readonly base: Omit<WatchHubOptions, 'namespace'>) {}

  /** The hub of `namespace`. */
  hub(namespace: string): WatchHub {
    let hub = this.hubs.get(namespace);
    if (!hub) {
      hub = new WatchHub({ ...this.base, namespace });
      this.hubs.set(namespace, hub);
    }
    return hub;
  }

  /** Closes every hub. */
  close(): void {
    for (const hub of this.hubs.values()) hub.close();
    this.hubs.clear();
  }
}

/** The Job a pod belongs to: its job-name label, else its controlling Job. */
function jobNameOfPod(pod: Pod): string | undefined {
  const labels = pod.metadata.labels ?? {};
  return (
    labels['batch.kubernetes.io/job-name'] ??
    labels['job-name'] ??
    pod.metadata.ownerReferences?.find((o) => o.controller && o.kind === 'Job')?.name
  );
}
