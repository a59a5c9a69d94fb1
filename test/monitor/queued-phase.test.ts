import { describe, expect, it } from 'vitest';
import { queueTimes } from '../../src/monitor/queue-times.js';
import { initialBlockState, defaultMonitorPolicy as policy, reduce } from '../../src/monitor/reduce.js';
import type { BlockPhase, BlockState, Observation } from '../../src/monitor/types.js';
import type { Job, Pod } from '../../src/types/kube.js';
import {
  completedJob,
  failedJob,
  JOB_NAME,
  job,
  pod,
  running,
  T0,
  terminated,
  waiting,
} from './kube-fixtures.js';

// GIVEN a Job that a queue (Kueue) holds suspended, admits, preempts and admits again
// WHEN the reducer folds what the watches deliver
// THEN the block is `queued` exactly while the Job is suspended, `pending` once admitted until a container
//   runs, and every queued interval is kept for the result's timings.

const S = 1000;
const MIN = 60 * S;

const jobAt = (j: Job, at: number): Observation => ({ kind: 'job', job: j, at });
const podAt = (p: Pod, at: number): Observation => ({ kind: 'pod', pod: p, at });
const suspend = (j: Job, suspended: boolean): Job => ({ ...j, spec: { ...j.spec!, suspend: suspended } });
const runningPod = (name: string, at: number, rv: string) =>
  pod({ name, created: at, rv, phase: 'Running', main: running(at) });

function fold(observations: Observation[]): { state: BlockState; phases: BlockPhase[] } {
  let state = initialBlockState(JOB_NAME, T0);
  const phases: BlockPhase[] = [state.phase];
  for (const o of observations) {
    state = reduce(state, o, policy);
    if (phases.at(-1) !== state.phase) phases.push(state.phase);
  }
  return { state, phases };
}

/** Created suspended (Kueue's webhook), admitted after 30 min, then its pod is scheduled and runs. */
const admitted: Observation[] = [
  jobAt(suspend(job({ rv: '1', status: {} }), true), T0),
  jobAt(suspend(job({ rv: '2', status: {} }), false), T0 + 30 * MIN),
  podAt(
    pod({
      name: 'p1',
      created: T0 + 30 * MIN,
      rv: '3',
      phase: 'Pending',
      main: waiting('ContainerCreating'),
    }),
    T0 + 30 * MIN + S,
  ),
  podAt(runningPod('p1', T0 + 30 * MIN + 5 * S, '4'), T0 + 30 * MIN + 5 * S),
];

/** Then Kueue preempts it: suspended again, its pod stopped (143) and removed, admitted 15 min later. */
const preempted: Observation[] = [
  ...admitted,
  jobAt(suspend(job({ rv: '10', status: { active: 0, terminating: 1 } }), true), T0 + 40 * MIN),
  podAt(
    pod({
      name: 'p1',
      created: T0 + 30 * MIN + 5 * S,
      rv: '11',
      phase: 'Failed',
      main: terminated(143, 'Error', T0 + 30 * MIN + 5 * S, T0 + 40 * MIN + 2 * S),
    }),
    T0 + 40 * MIN + 2 * S,
  ),
  { kind: 'pod-deleted', podName: 'p1', at: T0 + 40 * MIN + 3 * S },
  jobAt(suspend(job({ rv: '20', status: { active: 0 } }), false), T0 + 55 * MIN),
  podAt(runningPod('p2', T0 + 55 * MIN + 4 * S, '21'), T0 + 55 * MIN + 4 * S),
  podAt(
    pod({
      name: 'p2',
      created: T0 + 55 * MIN + 4 * S,
      rv: '22',
      phase: 'Succeeded',
      main: terminated(0, 'Completed', T0 + 55 * MIN + 4 * S, T0 + 70 * MIN),
    }),
    T0 + 70 * MIN,
  ),
  jobAt(completedJob('23', T0 + 70 * MIN), T0 + 70 * MIN),
];

describe('the queued phase', () => {
  it('is queued while suspended, pending once admitted (no pod yet, then a pod not started), then running', () => {
    const suspended = fold(admitted.slice(0, 1)).state;
    expect(suspended).toMatchObject({ phase: 'queued', suspendedSince: T0 });
    const waitingForPod = fold(admitted.slice(0, 2)).state;
    expect(waitingForPod.phase).toBe('pending');
    expect(waitingForPod.queued).toEqual([{ from: T0, to: T0 + 30 * MIN }]);
    expect(waitingForPod.suspendedSince).toBeUndefined();
    const { state, phases } = fold(admitted);
    expect(phases).toEqual(['submitted', 'queued', 'pending', 'running']);
    expect(state.startedAt).toBe(T0 + 30 * MIN + 5 * S);
  });

  it('goes back to queued when preempted, even while the stopped pod still runs, and keeps each interval', () => {
    const stopping = fold(preempted.slice(0, admitted.length + 1)).state;
    expect(stopping.phase).toBe('queued');
    expect(stopping.pods.p1?.phase).toBe('Running');
    const { state, phases } = fold(preempted);
    expect(phases).toEqual([
      'submitted',
      'queued',
      'pending',
      'running',
      'queued',
      'pending',
      'running',
      'succeeded',
    ]);
    expect(state).toMatchObject({ phase: 'succeeded', failedPods: 0, currentPod: 'p2' });
    // The first start stays the block's start.
    expect(state.startedAt).toBe(T0 + 30 * MIN + 5 * S);
    expect(state.queued).toEqual([
      { from: T0, to: T0 + 30 * MIN },
      { from: T0 + 40 * MIN, to: T0 + 55 * MIN },
    ]);
  });

  it('never shows queued for a Job that is never suspended', () => {
    const { state, phases } = fold([
      jobAt(job({ rv: '1' }), T0),
      podAt(runningPod('p1', T0 + 2 * S, '2'), T0 + 2 * S),
      jobAt(completedJob('3', T0 + 9 * S), T0 + 9 * S),
    ]);
    expect(phases).toEqual(['submitted', 'running', 'succeeded']);
    expect(state.queued).toBeUndefined();
    expect(queueTimes(state, T0 + 9 * S)).toBeUndefined();
  });

  it('stays queued when the new pod is seen before the Job admitted (separate watches), then runs from its start', () => {
    const early = [admitted[0]!, podAt(runningPod('p1', T0 + 30 * MIN, '3'), T0 + 30 * MIN)];
    expect(fold(early).state.phase).toBe('queued');
    const { state, phases } = fold([...early, admitted[1]!]);
    expect(phases).toEqual(['submitted', 'queued', 'running']);
    expect(state.startedAt).toBe(T0 + 30 * MIN);
  });

  it('is still queued while a failure held for its pod is decided again', () => {
    const failedWhileSuspended = suspend(
      failedJob({ rv: '5', reason: 'BackoffLimitExceeded', message: 'limit', failed: 1, at: T0 + MIN }),
      true,
    );
    const { state } = fold([
      jobAt(suspend(job({ rv: '1', status: {} }), true), T0),
      jobAt(failedWhileSuspended, T0 + MIN),
      { kind: 'tick', at: T0 + MIN + S },
    ]);
    expect(state.heldFailure).toBeDefined();
    expect(state).toMatchObject({ phase: 'queued', suspendedSince: T0 });
    expect(state.queued).toBeUndefined();
  });
});

describe('queueTimes', () => {
  it('totals the intervals and says when the Job was first admitted', () => {
    const { state } = fold(preempted);
    expect(queueTimes(state, T0 + 70 * MIN)).toEqual({
      queued: [
        { from: T0, to: T0 + 30 * MIN },
        { from: T0 + 40 * MIN, to: T0 + 55 * MIN },
      ],
      queuedMs: 45 * MIN,
      admittedAt: T0 + 30 * MIN,
    });
  });

  it('counts a suspension in progress until the end, with no admission when there was none', () => {
    const { state } = fold([
      jobAt(suspend(job({ rv: '1', status: {} }), true), T0),
      { kind: 'tick', at: T0 + 60 * MIN },
    ]);
    expect(state).toMatchObject({ phase: 'failed', reason: 'UNSCHEDULABLE' });
    expect(queueTimes(state, state.finishedAt!)).toEqual({
      queued: [{ from: T0, to: T0 + 60 * MIN }],
      queuedMs: 60 * MIN,
    });
  });
});
