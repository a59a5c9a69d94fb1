import { describe, expect, it } from 'vitest';
import { infrastructureCause } from '../../src/monitor/job-outcome.js';
import { summarizePod } from '../../src/monitor/pod-summary.js';
import { defaultMonitorPolicy, initialBlockState, reduce } from '../../src/monitor/reduce.js';
import type { BlockState } from '../../src/monitor/types.js';
import type { Pod } from '../../src/types/kube.js';
import { failedJob, iso, JOB_NAME, job, pod, T0, terminated } from './kube-fixtures.js';

/** Whether a failed block failed because the cluster ended its pod (preemption, eviction, drain, node lost). */

function disrupted(p: Pod, reason: string, message: string): Pod {
  const condition = {
    type: 'DisruptionTarget',
    status: 'True',
    reason,
    message,
    lastTransitionTime: iso(T0 + 4000),
  };
  return { ...p, status: { ...p.status, conditions: [condition, ...(p.status?.conditions ?? [])] } };
}

/** The final state after the given failed pod and the Job's failure with `jobReason`. */
function failedWith(failedPod: Pod, jobReason = 'BackoffLimitExceeded'): BlockState {
  let state = initialBlockState(JOB_NAME, T0);
  state = reduce(state, { kind: 'pod', pod: failedPod, at: T0 + 5000 }, defaultMonitorPolicy);
  const failed = failedJob({
    rv: '20',
    reason: jobReason,
    message: 'Job has reached the specified backoff limit',
    failed: 1,
    at: T0 + 6000,
  });
  return reduce(state, { kind: 'job', job: failed, at: T0 + 6000 }, defaultMonitorPolicy);
}

const exited = (exitCode: number, reason = 'Error') =>
  pod({
    name: 'p-1',
    created: T0,
    rv: '10',
    phase: 'Failed',
    main: terminated(exitCode, reason, T0 + 1000, T0 + 5000),
  });

describe('summarizePod: DisruptionTarget', () => {
  it('keeps the condition when True, with its reason and message', () => {
    const record = summarizePod(
      disrupted(exited(143), 'EvictionByEvictionAPI', 'Eviction API: evicting'),
      T0 + 5000,
    );
    expect(record.disruption).toEqual({ reason: 'EvictionByEvictionAPI', message: 'Eviction API: evicting' });
    expect(summarizePod(exited(1), T0 + 5000).disruption).toBeUndefined();
  });
});

describe('infrastructureCause', () => {
  it('names a DisruptionTarget of the last failed pod, while the reason code stays the precise one', () => {
    const state = failedWith(
      disrupted(exited(143), 'PreemptionByScheduler', 'Preempted by a pod of priority 1000'),
    );
    expect(state).toMatchObject({ phase: 'failed', reason: 'EXIT_CODE', exitCode: 143 });
    expect(infrastructureCause(state)).toEqual({
      pod: 'p-1',
      source: 'DisruptionTarget',
      reason: 'PreemptionByScheduler',
      message: 'Preempted by a pod of priority 1000',
    });
  });

  it.each([
    ['Evicted', 'The node was low on resource: memory.', 'EVICTED'],
    ['NodeLost', 'Node kind-worker2 which was running pod p-1 is unresponsive', 'BACKOFF_LIMIT_EXCEEDED'],
    ['Terminated', 'Pod was terminated in response to imminent node shutdown.', 'BACKOFF_LIMIT_EXCEEDED'],
    ['OutOfcpu', 'Pod was rejected: Node did not have enough resource: cpu', 'BACKOFF_LIMIT_EXCEEDED'],
  ])('names the pod status reason %s (reason code %s kept as it is)', (reason, message, code) => {
    const failedPod = pod({ name: 'p-1', created: T0, rv: '10', phase: 'Failed', reason, message });
    const state = failedWith(failedPod);
    expect(state.reason).toBe(code);
    expect(infrastructureCause(state)).toEqual({ pod: 'p-1', source: 'podReason', reason, message });
  });

  it("says nothing of the block's own failures: an exit code, an OOM kill, a deadline, a success", () => {
    expect(infrastructureCause(failedWith(exited(1)))).toBeUndefined();
    expect(infrastructureCause(failedWith(exited(137, 'OOMKilled')))).toBeUndefined();
    const evictedPastDeadline = failedWith(
      pod({
        name: 'p-1',
        created: T0,
        rv: '10',
        phase: 'Failed',
        reason: 'Evicted',
        message: 'low on memory',
      }),
      'DeadlineExceeded',
    );
    expect(evictedPastDeadline.reason).toBe('DEADLINE_EXCEEDED');
    expect(infrastructureCause(evictedPastDeadline)).toBeUndefined();
    const succeeded = reduce(
      initialBlockState(JOB_NAME, T0),
      {
        kind: 'job',
        job: job({ rv: '3', status: { succeeded: 1, conditions: [{ type: 'Complete', status: 'True' }] } }),
        at: T0,
      },
      defaultMonitorPolicy,
    );
    expect(succeeded.phase).toBe('succeeded');
    expect(infrastructureCause(succeeded)).toBeUndefined();
  });

  it('looks at the last failed pod only: an eviction followed by an exit code is the block failing', () => {
    let state = initialBlockState(JOB_NAME, T0);
    const evicted = pod({
      name: 'p-1',
      created: T0,
      rv: '10',
      phase: 'Failed',
      reason: 'Evicted',
      message: 'low on disk',
    });
    const second = pod({
      name: 'p-2',
      created: T0 + 6000,
      rv: '12',
      phase: 'Failed',
      main: terminated(2, 'Error', T0 + 7000, T0 + 8000),
    });
    state = reduce(state, { kind: 'pod', pod: evicted, at: T0 + 5000 }, defaultMonitorPolicy);
    state = reduce(state, { kind: 'pod', pod: second, at: T0 + 8000 }, defaultMonitorPolicy);
    const failed = failedJob({
      rv: '20',
      reason: 'BackoffLimitExceeded',
      message: 'limit',
      failed: 2,
      at: T0 + 9000,
    });
    state = reduce(state, { kind: 'job', job: failed, at: T0 + 9000 }, defaultMonitorPolicy);
    expect(state.reason).toBe('EXIT_CODE');
    expect(infrastructureCause(state)).toBeUndefined();
  });
});
