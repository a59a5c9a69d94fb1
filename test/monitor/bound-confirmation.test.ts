/**
 * A waiting bound reached on a cache that may be old. When every watch of Jobs fails while pods are
 * still seen, a Job that failed unseen must end the block with its own reason, not with the bound's
 * "has not failed itself" (POD_CREATE_FAILED); when the Pods watch is down, a pod that started unseen
 * must not fail the block as still pulling its image. The follow waits for one catch-up list, shared
 * by every follow of the namespace, instead of concluding from the cache.
 */
import { describe, expect, it } from 'vitest';
import { BOUND_RECHECK_MS, type FollowJobOptions, followJob } from '../../src/monitor/follow-job.js';
import { defaultMonitorPolicy as policy } from '../../src/monitor/reduce.js';
import { WatchHub } from '../../src/monitor/watch-hub.js';
import { FakeClock, flushMicrotasks } from '../../src/testing/fake-clock.js';
import {
  completedJob,
  failedJob,
  IMAGE,
  JOB_NAME,
  job,
  NAMESPACE,
  pod,
  running,
  T0,
  terminated,
  waiting,
} from './kube-fixtures.js';
import { forbidden, gone, ScriptedJobClient, unavailable } from './scripted-job-client.js';

const S = 1000;
/**
 * When the failed pod's bound is reached: no replacement within noPodTimeoutMs plus the controller's
 * 6 min, counted from when the pod was first seen (T0: the fake clock has not moved by then).
 */
const BOUND = T0 + policy.noPodTimeoutMs + 360 * S;

function setup({ watchList = false } = {}) {
  const clock = new FakeClock(T0);
  const client = new ScriptedJobClient();
  client.supportsWatchList = watchList;
  client.listVersion = '200'; // the lists that catch up are newer than every event of the tests
  const hub = new WatchHub({
    jobClient: client,
    clock,
    namespace: NAMESPACE,
    labelSelector: 'app=x',
    silentWatchMs: Number.POSITIVE_INFINITY,
    idleTimeoutMs: 0,
  });
  const follow = (extra: Partial<FollowJobOptions> = {}) =>
    followJob({ hub, jobName: JOB_NAME, clock, policy, submittedAt: T0, ...extra });
  return { clock, client, hub, follow };
}

type Setup = ReturnType<typeof setup>;

/** The Job is seen, and its pod running. */
function podRuns(client: ScriptedJobClient): void {
  client.jobWatch.emit('ADDED', job({ rv: '101' }));
  client.podWatch.emit(
    'ADDED',
    pod({ name: 'p1', created: T0 + S, rv: '102', phase: 'Running', main: running(T0 + 2 * S) }),
  );
}

/** Holds the answers of the lists served from now on (a slow list); returns what releases them. */
function holdLists(client: ScriptedJobClient): () => void {
  let open: () => void = () => undefined;
  client.listGate = new Promise((resolve) => {
    open = resolve;
  });
  return () => open();
}

/** The Job's pod runs, then the Jobs watch breaks (its resumed watch stays silent), then the pod fails. */
async function podFailsWhileJobsAreUnseen({ client }: Setup): Promise<void> {
  await flushMicrotasks();
  podRuns(client);
  client.jobWatch.fail(unavailable());
  await flushMicrotasks();
  client.podWatch.emit('MODIFIED', podFailed());
}

/** The Job's pod, failed with exit code 1. */
const podFailed = () =>
  pod({
    name: 'p1',
    created: T0 + S,
    rv: '103',
    phase: 'Failed',
    main: terminated(1, 'Error', T0 + 2 * S, T0 + 10 * S),
  });

const jobFailed = () =>
  failedJob({
    rv: '110',
    reason: 'BackoffLimitExceeded',
    message: 'Job has reached the specified backoff limit',
    failed: 1,
    at: T0 + 11 * S,
  });

/** Whether a promise has settled yet, without waiting for it. */
function settled(promise: Promise<unknown>): () => boolean {
  let done = false;
  const end = () => {
    done = true;
  };
  promise.then(end, end);
  return () => done;
}

describe('a waiting bound reached while the Jobs cache is not current', () => {
  it('waits for a list: a Job that failed unseen ends the block with its own reason', async () => {
    const run = setup();
    const done = run.follow();
    await podFailsWhileJobsAreUnseen(run);
    run.client.setJob(jobFailed());

    await run.clock.advance(BOUND - T0);
    await expect(done).resolves.toMatchObject({ phase: 'failed', reason: 'EXIT_CODE', exitCode: 1 });
    expect(run.client.count('listJobs')).toBe(2); // the first list, and the one the bound asked for
    expect(run.hub.stats.syncs).toBe(1);
    expect(run.client.calls).not.toContain('getJob');
  });

  it('concludes the bound at once when the list shows the Job has not ended', async () => {
    const run = setup();
    const done = run.follow();
    await podFailsWhileJobsAreUnseen(run);
    run.client.setJob(job({ rv: '104' }));

    await run.clock.advance(BOUND - T0);
    await expect(done).resolves.toMatchObject({
      phase: 'failed',
      reason: 'POD_CREATE_FAILED',
      finishedAt: BOUND,
    });
  });

  it('ends the block as deleted when the list does not have the Job', async () => {
    const run = setup();
    const done = run.follow();
    await podFailsWhileJobsAreUnseen(run);

    await run.clock.advance(BOUND - T0);
    await expect(done).resolves.toMatchObject({ phase: 'failed', reason: 'JOB_DELETED' });
  });

  it('waits while the lists fail too, asking again every recheck, and concludes from the first that works', async () => {
    const run = setup();
    const done = run.follow();
    await podFailsWhileJobsAreUnseen(run);
    run.client.jobListFailures.push(...Array.from({ length: 4 }, unavailable));
    const isDone = settled(done);

    await run.clock.advance(BOUND - T0 + 3 * BOUND_RECHECK_MS);
    expect(isDone()).toBe(false);
    expect(run.hub.stats.syncs).toBe(4); // at the bound, then at every recheck

    run.client.setJob(jobFailed());
    await run.clock.advance(BOUND_RECHECK_MS);
    await expect(done).resolves.toMatchObject({ phase: 'failed', reason: 'EXIT_CODE' });
    expect(run.hub.stats.syncs).toBe(5);
    expect(run.clock.pendingSleeps).toBe(0);
  });

  it('concludes once the Jobs cache is current again, without waiting for the recheck', async () => {
    const run = setup();
    const done = run.follow();
    await podFailsWhileJobsAreUnseen(run);
    run.client.jobListFailures.push(...Array.from({ length: 10 }, unavailable));

    await run.clock.advance(BOUND - T0 + S);
    // The outage ends: the resumed watch delivers the Job as it is (still running).
    run.client.jobWatch.emit('MODIFIED', job({ rv: '120' }));
    await expect(done).resolves.toMatchObject({
      phase: 'failed',
      reason: 'POD_CREATE_FAILED',
      finishedAt: BOUND + S,
    });
  });

  it('makes one list per recheck for all the follows of the namespace, however many wait', async () => {
    const run = setup();
    const names = Array.from({ length: 300 }, (_, i) => `block-${i}`);
    const follows = names.map((jobName) => run.follow({ jobName }));
    await flushMicrotasks();
    for (const name of names) run.client.jobWatch.emit('ADDED', job({ name, rv: '101' }));
    run.client.jobWatch.fail(unavailable());
    run.client.jobListFailures.push(...Array.from({ length: 100 }, unavailable));
    const anyDone = settled(Promise.race(follows));

    await run.clock.advance(policy.noPodTimeoutMs + 60 * S); // every no-pod bound, then a minute
    expect(anyDone()).toBe(false);
    expect(run.hub.stats.syncs).toBeLessThanOrEqual(7);
    expect(run.client.calls.filter((c) => c !== 'listJobs' && c !== 'watchJobs')).toEqual([
      'listPods',
      'watchPods',
    ]);
    run.hub.close();
    await Promise.allSettled(follows);
  });

  it('a second follow of the same Job, replayed from the stale cache, waits too', async () => {
    const run = setup();
    const first = run.follow();
    await podFailsWhileJobsAreUnseen(run);
    run.client.jobListFailures.push(...Array.from({ length: 10 }, unavailable));
    await run.clock.advance(BOUND - T0 + S);

    const second = run.follow(); // an orchestrator that adopts the Job again
    const isDone = settled(Promise.race([first, second]));
    await flushMicrotasks();
    expect(isDone()).toBe(false);
    run.hub.close();
    await Promise.allSettled([first, second]);
  });

  it('stops asking when the follow is cancelled', async () => {
    const run = setup();
    const stop = new AbortController();
    const done = run.follow({ signal: stop.signal });
    await podFailsWhileJobsAreUnseen(run);
    run.client.jobListFailures.push(...Array.from({ length: 10 }, unavailable));
    await run.clock.advance(BOUND - T0 + S);

    stop.abort(new Error('user cancelled'));
    await expect(done).rejects.toThrow('user cancelled');
    const syncs = run.hub.stats.syncs;
    await run.clock.advance(10 * BOUND_RECHECK_MS);
    expect(run.hub.stats.syncs).toBe(syncs);
  });
});

describe('what makes a cache not current, and what a catch-up list must not do', () => {
  it('a Jobs watch that keeps ending at once without events leaves the cache not current', async () => {
    const run = setup();
    const done = run.follow();
    await flushMicrotasks();
    podRuns(run.client);
    run.client.jobWatch.end(); // ends normally (its timeout); every resumed one then ends at once
    run.client.podWatch.emit('MODIFIED', podFailed());
    run.client.setJob(jobFailed());
    while (run.clock.now() < BOUND) {
      await flushMicrotasks();
      if (run.client.jobWatch.open) run.client.jobWatch.end();
      await run.clock.advance(Math.min(30 * S, BOUND - run.clock.now()));
    }
    await expect(done).resolves.toMatchObject({ phase: 'failed', reason: 'EXIT_CODE' });
  });

  it('a watch that delivers again ends a run of refused lists: a later refusal is only retried', async () => {
    const run = setup();
    const keeper = run.hub.subscribe('keeper', () => undefined); // the same watches all along
    const done = run.follow();
    run.client.setJob(job({ rv: '101' }));
    await podFailsWhileJobsAreUnseen(run);
    run.client.jobListFailures.push(forbidden()); // the catch-up list is refused once (a token at its edge)
    await run.clock.advance(BOUND - T0 + S);
    run.client.jobWatch.emit('MODIFIED', job({ rv: '104' })); // the watch is back: the bound concludes
    await expect(done).resolves.toMatchObject({ reason: 'POD_CREATE_FAILED' });

    // Hours later, another block, another brief outage with one refused list: nothing to fail for.
    await run.clock.advance(2 * 3_600_000);
    const later = run.follow({ jobName: 'later', submittedAt: run.clock.now() });
    run.client.jobWatch.emit('ADDED', job({ name: 'later', rv: '130' }));
    run.client.jobWatch.fail(unavailable());
    run.client.jobListFailures.push(forbidden());
    const isDone = settled(later);
    await run.clock.advance(policy.noPodTimeoutMs + S);
    expect(isDone()).toBe(false);
    expect(run.hub.stats.syncs).toBe(2);
    keeper.dispose();
    run.hub.close();
    await expect(later).rejects.toThrow('closed');
  });

  it('a list served before a deletion the watch then delivers does not bring the object back', async () => {
    const run = setup();
    const keeper = run.hub.subscribe('keeper', () => undefined); // the same watches all along
    const done = run.follow();
    await podFailsWhileJobsAreUnseen(run);
    await run.clock.advance(S);
    run.client.jobWatch.emit('ADDED', job({ name: 'other', rv: '104' })); // the resumed watch is live
    run.client.jobWatch.fail(unavailable()); // ... and breaks again: the cache is not current
    await run.clock.advance(S);
    run.client.setJob(job({ rv: '104' }));
    run.client.setJob(job({ name: 'other', rv: '104' }));
    const open = holdLists(run.client);

    await run.clock.advance(BOUND - run.clock.now()); // the catch-up list is served, its answer held
    run.client.jobWatch.emit('DELETED', job({ name: 'other', rv: '150' }));
    open();
    await expect(done).resolves.toMatchObject({ reason: 'POD_CREATE_FAILED' });
    const told: string[] = [];
    run.hub.subscribe('other', (observation) => told.push(observation.kind)).dispose();
    expect(told).toEqual([]); // nothing cached of it: the deleted Job is not back
    keeper.dispose();
  });

  it('joins a list already on its way (a relist after 410) instead of making one more', async () => {
    const run = setup();
    const done = run.follow();
    await podFailsWhileJobsAreUnseen(run);
    await run.clock.advance(S);
    const open = holdLists(run.client);
    run.client.jobWatch.fail(gone()); // the resumed watch is too old: the loop relists, held
    run.client.setJob(jobFailed());
    await run.clock.advance(BOUND - run.clock.now() + BOUND_RECHECK_MS);
    open();
    await expect(done).resolves.toMatchObject({ phase: 'failed', reason: 'EXIT_CODE' });
    expect(run.client.count('listJobs')).toBe(2); // the first list and the relist, nothing beside it
    expect(run.hub.stats.syncs).toBe(0);
  });

  it('a Job deleted and made again while a list is on its way is kept (another uid)', async () => {
    const run = setup();
    const keeper = run.hub.subscribe('keeper', () => undefined);
    const done = run.follow();
    await podFailsWhileJobsAreUnseen(run);
    await run.clock.advance(S);
    run.client.setJob(job({ rv: '104' }));
    run.client.setJob(job({ name: 'other', uid: 'second-uid', rv: '160' })); // made again, served so
    const open = holdLists(run.client);
    await run.clock.advance(BOUND - run.clock.now());
    // The watch tells of the first "other" (its deletion carries no resourceVersion).
    run.client.jobWatch.emit('DELETED', {
      ...job({ name: 'other', rv: '150' }),
      metadata: { ...job({ name: 'other', rv: '150' }).metadata, resourceVersion: undefined },
    } as ReturnType<typeof job>);
    open();
    await expect(done).resolves.toMatchObject({ reason: 'POD_CREATE_FAILED' });
    const told: string[] = [];
    run.hub.subscribe('other', (observation) => told.push(observation.kind)).dispose();
    expect(told).toEqual(['job']);
    keeper.dispose();
  });

  it('makes no catch-up list for a resource synced by streaming lists only (its Role may lack list)', async () => {
    const run = setup({ watchList: true });
    const done = run.follow();
    await flushMicrotasks();
    for (const watch of [run.client.jobWatch, run.client.podWatch]) {
      watch.emit('BOOKMARK', {
        metadata: { resourceVersion: '100', annotations: { 'k8s.io/initial-events-end': 'true' } },
      } as never);
    }
    run.client.jobWatch.emit('ADDED', job({ rv: '101' }));
    run.client.jobWatch.fail(unavailable());
    const isDone = settled(done);
    await run.clock.advance(policy.noPodTimeoutMs + 3 * BOUND_RECHECK_MS);
    expect(isDone()).toBe(false);
    expect(run.client.calls).not.toContain('listJobs');
    expect(run.hub.stats.syncs).toBe(0);
    // The resumed watch delivers (a bookmark): the cache is current, the bound concludes.
    run.client.jobWatch.emit('BOOKMARK', { metadata: { resourceVersion: '120' } } as never);
    await run.clock.advance(BOUND_RECHECK_MS);
    await expect(done).resolves.toMatchObject({ reason: 'POD_CREATE_FAILED' });
  });

  it("a failed Job's wait for its last pod does not end on a stale Pods cache", async () => {
    const run = setup();
    const done = run.follow();
    await flushMicrotasks();
    podRuns(run.client);
    run.client.podWatch.fail(unavailable());
    run.client.setPod(podFailed()); // the pod failed unseen; the Job's failure is seen
    run.client.jobWatch.emit('MODIFIED', jobFailed());

    await run.clock.advance(policy.podOutcomeGraceMs + S);
    await expect(done).resolves.toMatchObject({ phase: 'failed', reason: 'EXIT_CODE', exitCode: 1 });
  });

  it('makes no catch-up list while the first lists are still on their way', async () => {
    const run = setup();
    run.client.listGate = new Promise(() => undefined); // the first lists never answer
    const done = run.follow({ submittedAt: T0 - 3_600_000 }); // an adopted Job, its bound long past
    await run.clock.advance(3 * BOUND_RECHECK_MS);
    expect(run.hub.stats.syncs).toBe(0);
    expect(run.client.count('listJobs')).toBe(1);
    run.hub.close();
    await expect(done).rejects.toThrow('closed');
  });
});

describe('a waiting bound reached while the Pods cache is not current', () => {
  /** The pod pulls its image, then the Pods watch breaks (its resumed watch stays silent), then the pod starts unseen. */
  async function podStartsUnseen({ client }: Setup): Promise<void> {
    await flushMicrotasks();
    client.jobWatch.emit('ADDED', job({ rv: '101' }));
    client.podWatch.emit(
      'ADDED',
      pod({
        name: 'p1',
        created: T0,
        rv: '102',
        phase: 'Pending',
        main: waiting('ImagePullBackOff', `Back-off pulling image "${IMAGE}"`),
      }),
    );
    client.podWatch.fail(unavailable());
    client.setPod(pod({ name: 'p1', created: T0, rv: '105', phase: 'Running', main: running(T0 + 20 * S) }));
  }

  it('waits for a list of pods: a pod that started unseen keeps the block running', async () => {
    const run = setup();
    const done = run.follow();
    await podStartsUnseen(run);

    await run.clock.advance(policy.imagePullGraceMs + S);
    expect(run.hub.stats.syncs).toBe(1);
    expect(run.client.count('listJobs')).toBe(1); // the Jobs cache is current: no list of Jobs
    run.client.jobWatch.emit('MODIFIED', completedJob('110', T0 + 90 * S));
    await expect(done).resolves.toMatchObject({ phase: 'succeeded', startedAt: T0 + 20 * S });
  });

  it('concludes from the first list that works when the pod really is still pulling', async () => {
    const run = setup();
    const done = run.follow();
    await podStartsUnseen(run);
    run.client.podListFailures.push(unavailable(), unavailable());
    run.client.setPod(
      pod({
        name: 'p1',
        created: T0,
        rv: '106',
        phase: 'Pending',
        main: waiting('ImagePullBackOff', `Back-off pulling image "${IMAGE}"`),
      }),
    );
    const isDone = settled(done);

    await run.clock.advance(policy.imagePullGraceMs + BOUND_RECHECK_MS);
    expect(isDone()).toBe(false);
    await run.clock.advance(BOUND_RECHECK_MS);
    await expect(done).resolves.toMatchObject({ phase: 'failed', reason: 'IMAGE_PULL_FAILED' });
    expect(run.hub.stats.syncs).toBe(3);
  });
});

describe('a waiting bound reached while the caches are current', () => {
  it('is concluded at once, with no list', async () => {
    const run = setup();
    const done = run.follow();
    await flushMicrotasks();
    run.client.jobWatch.emit('ADDED', job({ rv: '101' }));

    await run.clock.advance(policy.noPodTimeoutMs);
    await expect(done).resolves.toMatchObject({
      reason: 'POD_CREATE_FAILED',
      finishedAt: T0 + policy.noPodTimeoutMs,
    });
    expect(run.hub.stats.syncs).toBe(0);
    expect(run.client.count('listJobs')).toBe(1);
  });
});
