import { describe, expect, it } from 'vitest';
import { type FollowJobOptions, followJob } from '../../src/monitor/follow-job.js';
import { defaultMonitorPolicy as policy } from '../../src/monitor/reduce.js';
import type { BlockState } from '../../src/monitor/types.js';
import { WatchHub } from '../../src/monitor/watch-hub.js';
import { FakeClock, flushMicrotasks } from '../../src/testing/fake-clock.js';
import {
  completedJob,
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
import { ScriptedJobClient } from './scripted-job-client.js';

const S = 1000;

function setup() {
  const clock = new FakeClock(T0);
  const client = new ScriptedJobClient();
  const hub = new WatchHub({
    jobClient: client,
    clock,
    namespace: NAMESPACE,
    labelSelector: 'app=x',
    silentWatchMs: Number.POSITIVE_INFINITY,
    // The watches stop with the last subscriber: "lets the watch go" shows the follow let go of its own.
    idleTimeoutMs: 0,
  });
  /** Follows the fixtures' Job, submitted at T0, with `extra` options. */
  const follow = (extra: Partial<FollowJobOptions> = {}) =>
    followJob({ hub, jobName: JOB_NAME, clock, policy, submittedAt: T0, ...extra });
  return { clock, client, hub, follow };
}

/** Whether a promise has settled yet, without waiting for it. */
function settled(promise: Promise<unknown>): () => boolean {
  let done = false;
  promise.then(
    () => {
      done = true;
    },
    () => {
      done = true;
    },
  );
  return () => done;
}

describe('followJob', () => {
  it('emits each transition in order and resolves with the final state, then lets the watch go', async () => {
    const { clock, client, hub } = setup();
    const transitions: string[] = [];
    const states: BlockState[] = [];
    const done = followJob({
      hub,
      jobName: JOB_NAME,
      clock,
      policy,
      submittedAt: T0,
      onTransition: (t) => transitions.push(`${t.from}→${t.to}`),
      onState: (s) => states.push(s),
    });
    await flushMicrotasks();

    client.jobWatch.emit('ADDED', job({ rv: '101' }));
    client.podWatch.emit(
      'ADDED',
      pod({ name: 'p1', created: T0 + S, rv: '102', phase: 'Pending', main: waiting('ContainerCreating') }),
    );
    await clock.advance(5 * S);
    client.podWatch.emit(
      'MODIFIED',
      pod({ name: 'p1', created: T0 + S, rv: '103', phase: 'Running', main: running(T0 + 5 * S) }),
    );
    await clock.advance(3600 * S); // a long run: no bound applies while the container runs
    client.podWatch.emit(
      'MODIFIED',
      pod({
        name: 'p1',
        created: T0 + S,
        rv: '104',
        phase: 'Succeeded',
        main: terminated(0, 'Completed', T0 + 5 * S, clock.now()),
      }),
    );
    client.jobWatch.emit('MODIFIED', completedJob('105', clock.now()));

    const state = await done;
    expect(transitions).toEqual(['submitted→pending', 'pending→running', 'running→succeeded']);
    expect(state).toMatchObject({
      phase: 'succeeded',
      exitCode: 0,
      startedAt: T0 + 5 * S,
      finishedAt: T0 + 3605 * S,
    });
    expect(states.at(-1)).toBe(state);
    expect([client.jobWatch.aborted, client.podWatch.aborted]).toEqual([true, true]);
    expect(clock.pendingSleeps).toBe(0);
  });

  it('fails through a tick when no pod appears in time', async () => {
    const { clock, client, hub } = setup();
    const done = followJob({ hub, jobName: JOB_NAME, clock, policy, submittedAt: T0 });
    const isDone = settled(done);
    await flushMicrotasks();
    client.jobWatch.emit('ADDED', job({ rv: '101' }));

    await clock.advance(policy.noPodTimeoutMs - 1);
    expect(isDone()).toBe(false);
    await clock.advance(1);
    await expect(done).resolves.toMatchObject({
      phase: 'failed',
      reason: 'POD_CREATE_FAILED',
      finishedAt: T0 + policy.noPodTimeoutMs,
    });
  });

  it('re-arms its timer when the bound moves', async () => {
    const { clock, client, hub } = setup();
    const done = followJob({ hub, jobName: JOB_NAME, clock, policy, submittedAt: T0 });
    await flushMicrotasks();
    await clock.advance(10 * S);
    client.podWatch.emit(
      'ADDED',
      pod({
        name: 'p1',
        created: T0 + 2 * S,
        rv: '102',
        phase: 'Pending',
        main: waiting('ImagePullBackOff', `Back-off pulling image "${IMAGE}"`),
      }),
    );
    await clock.advance(policy.imagePullGraceMs);

    await expect(done).resolves.toMatchObject({
      reason: 'IMAGE_PULL_FAILED',
      finishedAt: T0 + 10 * S + policy.imagePullGraceMs,
    });
    expect(clock.sleeps.filter(Number.isFinite)).toEqual([policy.noPodTimeoutMs, policy.imagePullGraceMs]);
  });

  it('resolves at once for a Job the shared watch already saw finish', async () => {
    const { clock, client, hub } = setup();
    client.setJob(completedJob('90', T0));
    hub.subscribe('another-job', () => {});
    await flushMicrotasks();
    await expect(
      followJob({ hub, jobName: JOB_NAME, clock, policy, submittedAt: T0 }),
    ).resolves.toMatchObject({ phase: 'succeeded' });
  });

  it('rejects with the abort reason and lets the watch go', async () => {
    const { clock, client, hub } = setup();
    const stop = new AbortController();
    const done = followJob({ hub, jobName: JOB_NAME, clock, policy, submittedAt: T0, signal: stop.signal });
    await flushMicrotasks();
    stop.abort(new Error('user cancelled'));
    await expect(done).rejects.toThrow('user cancelled');
    expect(client.jobWatch.aborted).toBe(true);
    expect(clock.pendingSleeps).toBe(0);

    await expect(
      followJob({ hub, jobName: JOB_NAME, clock, policy, submittedAt: T0, signal: stop.signal }),
    ).rejects.toThrow('user cancelled');
    expect(client.count('listJobs')).toBe(1);
  });

  it('rejects with the error of a throwing callback', async () => {
    const { clock, client, hub } = setup();
    const done = followJob({
      hub,
      jobName: JOB_NAME,
      clock,
      policy,
      submittedAt: T0,
      onTransition: () => {
        throw new Error('callback bug');
      },
    });
    await flushMicrotasks();
    client.podWatch.emit('ADDED', pod({ name: 'p1', created: T0, rv: '102', phase: 'Pending' }));
    await expect(done).rejects.toThrow('callback bug');
    expect(client.jobWatch.aborted).toBe(true);
  });

  it('an abort from inside the final transition changes nothing: it resolves with the final state', async () => {
    const { clock, client, follow } = setup();
    const stop = new AbortController();
    const done = follow({
      signal: stop.signal,
      onTransition: (t) => {
        if (t.to === 'succeeded') stop.abort(new Error('fail-fast scheduler'));
      },
    });
    await flushMicrotasks();
    client.jobWatch.emit('MODIFIED', completedJob('105', clock.now()));
    await expect(done).resolves.toMatchObject({ phase: 'succeeded' });
    expect(client.jobWatch.aborted).toBe(true);
    expect(clock.pendingSleeps).toBe(0);
  });

  it('a callback that throws on the final state still rejects with its error', async () => {
    const { clock, client, follow } = setup();
    const done = follow({
      onState: (state) => {
        if (state.phase === 'succeeded') throw new Error('observer bug');
      },
    });
    await flushMicrotasks();
    client.jobWatch.emit('MODIFIED', completedJob('105', clock.now()));
    await expect(done).rejects.toThrow('observer bug');
    expect(client.jobWatch.aborted).toBe(true);
  });

  it('an abort from inside onState ends the follow there: no transition is told after it', async () => {
    const { clock, client, follow } = setup();
    const stop = new AbortController();
    const transitions: string[] = [];
    const done = follow({
      signal: stop.signal,
      onState: (state) => {
        if (state.phase === 'pending') stop.abort(new Error('user cancelled'));
      },
      onTransition: (t) => transitions.push(`${t.from}→${t.to}`),
    });
    await flushMicrotasks();
    client.podWatch.emit('ADDED', pod({ name: 'p1', created: T0, rv: '102', phase: 'Pending' }));
    await expect(done).rejects.toThrow('user cancelled');
    expect(transitions).toEqual([]);
    expect(clock.pendingSleeps).toBe(0);
  });
});
