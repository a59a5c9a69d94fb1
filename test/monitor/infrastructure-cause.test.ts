import { describe, expect, it } from 'vitest';
import { infrastructureCause } from '../../src/monitor/job-outcome.js';
import { summarizePod } from '../../src/monitor/pod-summary.js';
import { defaultMonitorPolicy, initialBlockState, reduce } from '../../src/monitor/reduce.js';
import type { BlockState } from '../../src/monitor/types.js';
import type { Job, Pod } from '../../src/types/kube.js';
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
    // The sentence does not blame the block's code for a container the cluster stopped.
    expect(state.message).toBe(
      'Container "mage-job-container" exited with code 143 after 1 of 1 allowed pods failed; its pod was preempted (PreemptionByScheduler: Preempted by a pod of priority 1000), not failed by the block\'s code; running it again can succeed.',
    );
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
    expect(failedWith(exited(1)).message).toContain("the block's own code failed, see its last log lines");
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

  it('counts what the Job counted: a disruption its podFailurePolicy ignored is not one of the allowed pods', () => {
    // Seen on the e2e control plane: an evicted pod (DisruptionTarget, ignored by the default policy),
    // then its replacement exits 3; the Job counts 1 failure of backoffLimit 0, not 2.
    const evicted = disrupted(exited(137), 'EvictionByEvictionAPI', 'Eviction API: evicting');
    const second = pod({
      name: 'p-2',
      created: T0 + 6000,
      rv: '12',
      phase: 'Failed',
      main: terminated(3, 'Error', T0 + 7000, T0 + 8000),
    });
    const failedAfter = (status: Partial<NonNullable<Job['status']>>) => {
      let state = initialBlockState(JOB_NAME, T0);
      state = reduce(state, { kind: 'pod', pod: evicted, at: T0 + 5000 }, defaultMonitorPolicy);
      state = reduce(state, { kind: 'pod', pod: second, at: T0 + 8000 }, defaultMonitorPolicy);
      const failed = failedJob({
        rv: '20',
        reason: 'BackoffLimitExceeded',
        message: 'limit',
        failed: 1,
        at: T0 + 9000,
      });
      const job = { ...failed, status: { ...failed.status, ...status } };
      return reduce(state, { kind: 'job', job, at: T0 + 9000 }, defaultMonitorPolicy);
    };

    const counted = failedAfter({ failed: 1 });
    expect(counted).toMatchObject({ reason: 'EXIT_CODE', exitCode: 3 });
    expect(counted.message).toContain('exited with code 3 after 1 of 1 allowed pods failed');
    expect(infrastructureCause(counted)).toBeUndefined();
    // FailureTarget written before the pod moved from uncountedTerminatedPods into failed: the same count.
    const uncounted = failedAfter({ failed: 0, uncountedTerminatedPods: { failed: ['uid-p-2'] } });
    expect(uncounted.message).toContain('after 1 of 1 allowed pods failed');
  });
});
