import { K8sExecutorError } from '../errors/base.js';
import { isolateCallback } from '../errors/isolate-callback.js';
import { TIMER_STOPPED } from '../ports/clock.js';
import type { Job, Pod } from '../types/kube.js';
import type { CacheChange, HubEvent, ReflectorStat } from './hub-event.js';
import { leanJob, leanPod } from './lean-objects.js';
import { ListHealth, withMessage } from './list-health.js';
import { jobNameOfPod } from './pod-summary.js';
import { Reflector, type Refusal } from './reflector.js';
import { StreamingLists } from './streaming-list.js';
import type { Observation } from './types.js';
import {
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_SILENT_WATCH_MS,
  DEFAULT_UNLISTABLE_TIMEOUT_MS,
  type HubSubscription,
  type WatchHubOptions,
  type WatchHubSizes,
  type WatchHubStats,
} from './watch-hub-options.js';

export type { HubEvent } from './hub-event.js';
export {
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_SILENT_WATCH_MS,
  DEFAULT_UNLISTABLE_TIMEOUT_MS,
  type HubSubscription,
  type WatchHubOptions,
  type WatchHubSettings,
  type WatchHubSizes,
  type WatchHubStats,
} from './watch-hub-options.js';

type Listener = (observation: Observation) => void;

/**
 * One subscription: its listener, with an identity of its own (the same listener may subscribe twice).
 * An object of a class with one closure (`dispose`, which callers may detach) rather than several:
 * every running block holds one.
 */
class Subscriber implements HubSubscription {
  /** Set by `dispose` and by the hub's `close`: a delivery under way skips a subscriber that left during it. */
  left = false;

  constructor(
    readonly jobName: string,
    readonly listener: Listener,
    private readonly leave: (subscriber: Subscriber) => void,
  ) {}

  readonly dispose = (): void => {
    if (this.left) return;
    this.left = true;
    this.leave(this);
  };
}

/** One run of the shared watches, from the first subscriber to the end of the idle time after the last. */
interface Session {
  stop: AbortController;
  jobs: Reflector<Job>;
  pods: Reflector<Pod>;
  /** Aborted when a subscriber comes back before the idle time is over. */
  idle?: AbortController;
  /**
   * Whether observations reach the subscribers: from the end of the first sync of both caches (so a
   * Job seen finished is never delivered before its pods, which come on the other stream), or as soon
   * as one of them failed its first list.
   */
  delivering: boolean;
}

/**
 * ONE Jobs watch and ONE Pods watch for a namespace and a label selector, shared by every block
 * running there: the API cost does not grow with the number of blocks. The watches start with the
 * first subscriber and stop `idleTimeoutMs` after the last one left (at once when they never listed),
 * so consecutive blocks share them too; see `Reflector` for the sync/watch/410/backoff/polling rules.
 * The caches keep lean copies of the objects (see `leanJob`/`leanPod`). Errors go to `onHubEvent` and
 * never crash the process.
 *
 * @example
 * const hub = new WatchHub({ jobClient, clock, namespace: 'etl', labelSelector: 'app.kubernetes.io/managed-by=k8s-executor' });
 * const sub = hub.subscribe('mage-data-prep-block-42', (o) => console.log(o.kind));
 * sub.dispose();
 */
export class WatchHub {
  /** The subscribers of each Job name (mostly one: an array, not a set, for the thousands of them). */
  private readonly listeners = new Map<string, Subscriber[]>();
  private readonly leave = (subscriber: Subscriber) => this.unsubscribe(subscriber);
  private readonly counters: WatchHubStats = {
    lists: 0,
    watches: 0,
    watchLists: 0,
    relists: 0,
    reconnects: 0,
    polls: 0,
    syncs: 0,
  };
  /** Whether Jobs and Pods can be listed: outlives sessions, so a new session's first list is not "the first". */
  private readonly health: Readonly<Record<'jobs' | 'pods', ListHealth>>;
  /** Whether to sync with streaming lists: outlives sessions, so a refusal is remembered. */
  private readonly streamingLists: StreamingLists;
  private readonly onHubEvent: ((event: HubEvent) => void) | undefined;
  private session: Session | undefined;

  /** Does no IO. */
  constructor(private readonly options: WatchHubOptions) {
    const bound = options.unlistableTimeoutMs ?? DEFAULT_UNLISTABLE_TIMEOUT_MS;
    this.health = { jobs: new ListHealth(bound), pods: new ListHealth(bound) };
    this.streamingLists = new StreamingLists(options.jobClient.supportsWatchList === true);
    this.onHubEvent = isolateCallback('onHubEvent', options.onHubEvent);
  }

  /** A copy of the hub's counters. */
  get stats(): Readonly<WatchHubStats> {
    return { ...this.counters };
  }

  /** What the hub holds now (for tests and soak runs: nothing grows with the blocks that ended). */
  get sizes(): Readonly<WatchHubSizes> {
    return {
      subscribedJobs: this.listeners.size,
      cachedJobs: this.session?.jobs.size ?? 0,
      cachedPods: this.session?.pods.size ?? 0,
      watching: this.session !== undefined,
    };
  }

  /**
   * Observations for one Job and its pods (pods matched by the `batch.kubernetes.io/job-name` or
   * `job-name` label, or their controlling Job). Starts the shared sync+watch on the first subscriber
   * (or joins the one still open from earlier subscribers), and stops it `idleTimeoutMs` after the
   * last one leaves. Replays the cached pods and Job of that name at once, synchronously, before
   * returning (once the first sync of both caches is over: until then nothing is delivered, then the
   * cache is); when the namespace is known to be unlistable right now, tells so at once too.
   */
  subscribe(jobName: string, listener: (observation: Observation) => void): HubSubscription {
    const own = new Subscriber(jobName, listener, this.leave);
    const forJob = this.listeners.get(jobName);
    if (forJob) forJob.push(own);
    else this.listeners.set(jobName, [own]);
    const session = this.session;
    if (session) {
      session.idle?.abort(TIMER_STOPPED);
      session.idle = undefined;
      if (session.delivering) this.replay(session, jobName, own);
      // The replay's listener may have closed the hub, or let this subscription go.
      if (this.session === session) this.tellRefusal(session, own);
    } else {
      this.session = this.start();
    }
    return own;
  }

  /**
   * Whether what the hub delivers of `resource` is up to date: synced, and no list or watch of it
   * failed since it was last brought up to date. During an outage a follow sees the last state it was
   * told, which may be old: a Job that failed meanwhile still looks as it did.
   */
  isCurrent(resource: 'jobs' | 'pods'): boolean {
    const session = this.session;
    return session?.delivering === true && session[resource].current;
  }

  /**
   * Has every cache that is not current list now (coalesced, see `Reflector.syncNow`), for a follow
   * whose waiting bound was reached: what the lists find reaches the subscribers as any change.
   * Resolves when those lists settled; never rejects.
   */
  async syncNow(): Promise<void> {
    const session = this.session;
    if (!session) return;
    await Promise.all([session.jobs.syncNow(), session.pods.syncNow()]);
  }

  /**
   * Stops the watches at once (idle or not) and forgets every subscriber, telling each that its Job
   * can no longer be observed (so no follow waits forever). A later `subscribe` starts afresh.
   */
  close(): void {
    const at = this.options.clock.now();
    const closed = new K8sExecutorError('CANCELLED', 'The executor was closed while this block was running.');
    const subscribers = [...this.listeners.values()].flat();
    this.listeners.clear();
    this.stop();
    // Marked as left first: a delivery that a listener closed the hub from tells the rest nothing more.
    for (const subscriber of subscribers) subscriber.left = true;
    for (const { listener } of subscribers) this.call(listener, { kind: 'unobservable', error: closed, at });
  }

  private unsubscribe(subscriber: Subscriber): void {
    const { jobName } = subscriber;
    const forJob = this.listeners.get(jobName);
    const at = forJob?.indexOf(subscriber) ?? -1;
    if (at < 0) return; // the hub was closed since: it forgot every subscriber
    forJob!.splice(at, 1);
    if (forJob!.length === 0) this.listeners.delete(jobName);
    if (this.listeners.size === 0) this.idle();
  }

  /**
   * The last subscriber left: keep the watches for `idleTimeoutMs`, unless they never listed (a new
   * subscriber then gets a fresh first list, which fails fast when the namespace is not listable).
   */
  private idle(): void {
    const session = this.session;
    if (!session) return;
    const idleMs = this.options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    if (idleMs <= 0 || !session.jobs.synced || !session.pods.synced) {
      this.stop();
      return;
    }
    const idle = new AbortController();
    session.idle = idle;
    this.options.clock.sleep(idleMs, AbortSignal.any([idle.signal, session.stop.signal])).then(
      () => {
        if (this.session === session && session.idle === idle) this.stop();
      },
      () => undefined, // a subscriber came back, or the hub was closed
    );
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
      streamingLists: this.streamingLists,
      onSyncOutcome: () => this.maybeDeliver(),
    };
    // Every follow of this namespace is blind: tell them all, so none waits for what it cannot see.
    const onUnlistable = (resource: 'jobs' | 'pods') => (error: unknown, why: Refusal['why']) => {
      const unobservable = this.unobservable(resource, { error, why });
      for (const jobName of [...this.listeners.keys()]) this.deliver(jobName, unobservable);
    };
    const listOptions = (signal: AbortSignal, resourceVersion: string | undefined) => ({
      signal,
      ...(resourceVersion !== undefined ? { resourceVersion } : {}),
    });
    const watchOptions = (resourceVersion: string, signal: AbortSignal, streamingList: boolean) => ({
      labelSelector,
      resourceVersion,
      allowBookmarks: true,
      timeoutSeconds: this.options.watchTimeoutSeconds ?? 300,
      signal,
      ...(streamingList ? { sendInitialEvents: true } : {}),
    });
    const jobs = new Reflector<Job>({
      ...common,
      resource: 'jobs',
      listHealth: this.health.jobs,
      onUnlistable: onUnlistable('jobs'),
      list: (signal, rv) => jobClient.listJobs(namespace, labelSelector, listOptions(signal, rv)),
      watch: (onEvent, rv, signal, streaming) =>
        jobClient.watchJobs(namespace, onEvent, watchOptions(rv, signal, streaming)),
      transform: leanJob,
      onChange: (change) => this.deliverJob(change),
    });
    const pods = new Reflector<Pod>({
      ...common,
      resource: 'pods',
      listHealth: this.health.pods,
      onUnlistable: onUnlistable('pods'),
      list: (signal, rv) => jobClient.listPods(namespace, labelSelector, listOptions(signal, rv)),
      watch: (onEvent, rv, signal, streaming) =>
        jobClient.watchPods(namespace, onEvent, watchOptions(rv, signal, streaming)),
      transform: leanPod,
      groupOf: jobNameOfPod,
      onChange: (change) => this.deliverPod(change),
    });
    void jobs.run(stop.signal);
    void pods.run(stop.signal);
    return { stop, jobs, pods, delivering: false };
  }

  /** Starts the deliveries once both caches are past their first sync: each subscriber gets the cache. */
  private maybeDeliver(): void {
    const session = this.session;
    if (!session || session.delivering || !session.jobs.firstSyncOver || !session.pods.firstSyncOver) return;
    session.delivering = true;
    // Who subscribed before this moment: one who subscribes during it is replayed by `subscribe`.
    const subscribed = [...this.listeners].map(
      ([jobName, subscribers]) => [jobName, [...subscribers]] as const,
    );
    for (const [jobName, subscribers] of subscribed) {
      for (const subscriber of subscribers) this.replay(session, jobName, subscriber);
    }
  }

  private stop(): void {
    this.session?.stop.abort();
    this.session = undefined;
  }

  /** What the follows are told when listing `resource` is refused. */
  private unobservable(resource: 'jobs' | 'pods', refusal: Refusal): Observation {
    const bound = this.options.unlistableTimeoutMs ?? DEFAULT_UNLISTABLE_TIMEOUT_MS;
    const refusedFor = `Every list of ${resource} in namespace "${this.options.namespace}" was refused for ${Math.round(bound / 1000)} s, so the blocks there cannot be followed.`;
    const error = refusal.why === 'bound' ? withMessage(refusal.error, refusedFor) : refusal.error;
    return { kind: 'unobservable', error, at: this.options.clock.now() };
  }

  /** The cached pods of `jobName`, then its Job: a finished Job's pods are known before it ends the follow. */
  private replay(session: Session, jobName: string, subscriber: Subscriber): void {
    const at = this.options.clock.now();
    for (const pod of session.pods.inGroup(jobName)) this.tell(subscriber, { kind: 'pod', pod, at });
    const job = session.jobs.get(jobName);
    if (job) this.tell(subscriber, { kind: 'job', job, at });
  }

  /** A new subscriber of a session that cannot list right now is told at once, as a new session would tell it. */
  private tellRefusal(session: Session, subscriber: Subscriber): void {
    const refused = session.jobs.refusal ? 'jobs' : session.pods.refusal ? 'pods' : undefined;
    const refusal = refused && session[refused].refusal;
    if (refused && refusal) this.tell(subscriber, this.unobservable(refused, refusal));
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
    // Before both caches synced, the cache is delivered whole when they are (`maybeDeliver`).
    if (observation.kind !== 'unobservable' && !this.session?.delivering) return;
    for (const subscriber of [...(this.listeners.get(jobName) ?? [])]) this.tell(subscriber, observation);
  }

  /** Tells one subscriber, unless it left since the delivery began (another listener disposed it). */
  private tell(subscriber: Subscriber, observation: Observation): void {
    if (!subscriber.left) this.call(subscriber.listener, observation);
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

  /** Closes every hub: their watches stop at once, idle or not. */
  close(): void {
    for (const hub of this.hubs.values()) hub.close();
    this.hubs.clear();
  }
}
