import { describe, expect, it } from 'vitest';
import { defaultMonitorPolicy, initialBlockState, nextDeadline, reduce } from '../../src/monitor/reduce.js';
import type { BlockPhase, BlockState, Observation } from '../../src/monitor/types.js';
import type { Job, Pod } from '../../src/types/kube.js';
import {
  completedJob,
  failedJob,
  IMAGE,
  JOB_NAME,
  job,
  pod,
  running,
  T0,
  terminated,
  waiting,
} from './kube-fixtures.js';

const policy = defaultMonitorPolicy;
const S = 1000;
const MIN = 60 * S;

const jobAt = (j: Job, at: number): Observation => ({ kind: 'job', job: j, at });
const podAt = (p: Pod, at: number): Observation => ({ kind: 'pod', pod: p, at });
const tick = (at: number): Observation => ({ kind: 'tick', at });

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

/** Folds observations from a fresh state; every state and observation is frozen, so a mutation throws. */
function fold(observations: Observation[]): { state: BlockState; phases: BlockPhase[] } {
  let state = deepFreeze(initialBlockState(JOB_NAME, T0));
  const phases: BlockPhase[] = [state.phase];
  for (const o of observations) {
    state = deepFreeze(reduce(state, deepFreeze(o), policy));
    if (phases.at(-1) !== state.phase) phases.push(state.phase);
  }
  return { state, phases };
}

const created = job({ rv: '1001' });
const pendingPod = (name: string, created: number, rv: string) =>
  pod({ name, created, rv, phase: 'Pending', main: waiting('ContainerCreating') });
const runningPod = (name: string, created: number, rv: string) =>
  pod({ name, created, rv, phase: 'Running', main: running(created + 5 * S) });

describe('reduce: success', () => {
  it('counts failed pods as the Job does: an evicted pod its podFailurePolicy ignored is no retry spent', () => {
    const { state } = fold([
      jobAt(created, T0),
      podAt(
        pod({
          name: 'p1',
          created: T0 + S,
          rv: '1002',
          phase: 'Failed',
          main: terminated(137, 'Error', T0 + 2 * S, T0 + 9 * S),
        }),
        T0 + 10 * S,
      ),
      jobAt(job({ rv: '1003', status: { active: 1, failed: 0 } }), T0 + 11 * S),
      podAt(runningPod('p2', T0 + 12 * S, '1004'), T0 + 17 * S),
      podAt(
        pod({
          name: 'p2',
          created: T0 + 12 * S,
          rv: '1005',
          phase: 'Succeeded',
          main: terminated(0, 'Completed', T0 + 17 * S, T0 + 30 * S),
        }),
        T0 + 31 * S,
      ),
      jobAt(completedJob('1006', T0 + 32 * S), T0 + 32 * S),
    ]);
    expect(state).toMatchObject({ phase: 'succeeded', failedPods: 0, currentPod: 'p2' });
  });

  it('ends succeeded on Complete=True, through pending and running', () => {
    const { state, phases } = fold([
      jobAt(created, T0),
      podAt(pendingPod('p1', T0 + S, '1002'), T0 + S),
      podAt(runningPod('p1', T0 + S, '1003'), T0 + 6 * S),
      podAt(
        pod({
          name: 'p1',
          created: T0 + S,
          rv: '1004',
          phase: 'Succeeded',
          main: terminated(0, 'Completed', T0 + 6 * S, T0 + 40 * S),
        }),
        T0 + 41 * S,
      ),
      jobAt(completedJob('1005', T0 + 42 * S, 'Complete'), T0 + 42 * S),
    ]);
    expect(phases).toEqual(['submitted', 'pending', 'running', 'succeeded']);
    expect(state).toMatchObject({
      phase: 'succeeded',
      currentPod: 'p1',
      exitCode: 0,
      containerName: 'mage-job-container',
      startedAt: T0 + 6 * S,
      finishedAt: T0 + 42 * S,
      failedPods: 0,
      jobUid: created.metadata.uid,
    });
    expect(state.reason).toBeUndefined();
  });

  it('ends succeeded on SuccessCriteriaMet=True before Complete is set', () => {
    const { state } = fold([jobAt(completedJob('1005', T0 + 9 * S, 'SuccessCriteriaMet'), T0 + 9 * S)]);
    expect(state.phase).toBe('succeeded');
  });

  it('honours backoffLimit 2: fails twice, succeeds on the third pod', () => {
    const failedPod = (name: string, createdAt: number, rv: string) =>
      pod({
        name,
        created: createdAt,
        rv,
        phase: 'Failed',
        main: terminated(1, 'Error', createdAt + 2 * S, createdAt + 9 * S),
      });
    const retrying = job({ rv: '1', backoffLimit: 2 });
    const { state, phases } = fold([
      jobAt(retrying, T0),
      podAt(runningPod('p1', T0 + S, '2'), T0 + 6 * S),
      podAt(failedPod('p1', T0 + S, '3'), T0 + 10 * S),
      jobAt(job({ rv: '4', backoffLimit: 2, status: { failed: 1, active: 0 } }), T0 + 10 * S),
      podAt(runningPod('p2', T0 + 20 * S, '5'), T0 + 25 * S),
      podAt(failedPod('p2', T0 + 20 * S, '6'), T0 + 30 * S),
      podAt(runningPod('p3', T0 + 50 * S, '7'), T0 + 55 * S),
      jobAt(job({ rv: '8', backoffLimit: 2, status: { failed: 2, active: 1 } }), T0 + 55 * S),
      podAt(
        pod({
          name: 'p3',
          created: T0 + 50 * S,
          rv: '9',
          phase: 'Succeeded',
          main: terminated(0, 'Completed', T0 + 55 * S, T0 + 70 * S),
        }),
        T0 + 71 * S,
      ),
      jobAt(completedJob('10', T0 + 72 * S), T0 + 72 * S),
    ]);
    expect(phases).toEqual(['submitted', 'running', 'pending', 'running', 'pending', 'running', 'succeeded']);
    expect(state).toMatchObject({ phase: 'succeeded', failedPods: 2, currentPod: 'p3', exitCode: 0 });
  });
});

describe('reduce: the Job failed', () => {
  it('counts the failed pods the Job controller has not moved into status.failed yet (FailureTarget first)', () => {
    const failedPod = (name: string, created: number, rv: string) =>
      pod({ name, created, rv, phase: 'Failed', main: terminated(2, 'Error', created + S, created + 3 * S) });
    const target = failedJob({
      rv: '20',
      backoffLimit: 1,
      reason: 'BackoffLimitExceeded',
      message: 'Job has reached the specified backoff limit',
      failed: 1,
      at: T0 + 30 * S,
    });
    const uncounted = {
      ...target,
      status: { ...target.status, uncountedTerminatedPods: { failed: ['uid-p2'] } },
    };
    const { state } = fold([
      jobAt(created, T0),
      podAt(failedPod('p1', T0 + S, '10'), T0 + 5 * S),
      jobAt(job({ rv: '11', status: { active: 1, failed: 1 } }), T0 + 6 * S),
      podAt(failedPod('p2', T0 + 10 * S, '12'), T0 + 14 * S),
      jobAt(uncounted as Job, T0 + 30 * S),
    ]);
    expect(state).toMatchObject({ phase: 'failed', reason: 'EXIT_CODE', exitCode: 2, failedPods: 2 });
    expect(state.message).toContain('after 2 of 2 allowed pods failed');
  });

  it('names the container and its memory limit when the last pod was OOMKilled', () => {
    const { state } = fold([
      podAt(runningPod('p1', T0 + S, '2'), T0 + 6 * S),
      podAt(
        pod({
          name: 'p1',
          created: T0 + S,
          rv: '3',
          phase: 'Failed',
          main: terminated(137, 'OOMKilled', T0 + 6 * S, T0 + 30 * S),
        }),
        T0 + 31 * S,
      ),
      jobAt(
        failedJob({
          rv: '4',
          reason: 'BackoffLimitExceeded',
          message: 'Job has reached the specified backoff limit',
          failed: 1,
          at: T0 + 31 * S,
        }),
        T0 + 32 * S,
      ),
    ]);
    expect(state).toMatchObject({
      phase: 'failed',
      reason: 'OOM_KILLED',
      exitCode: 137,
      containerName: 'mage-job-container',
    });
    expect(state.message).toContain('"mage-job-container"');
    expect(state.message).toContain('512Mi');
    expect(state.message).toContain('resource_limits.memory');
  });

  it('reports the exit code and the pods used when every retry exited non-zero', () => {
    const obs: Observation[] = [jobAt(job({ rv: '1', backoffLimit: 2 }), T0)];
    for (const [i, name] of ['p1', 'p2', 'p3'].entries()) {
      const c = T0 + i * 20 * S;
      obs.push(
        podAt(
          pod({
            name,
            created: c,
            rv: `${10 + i}`,
            phase: 'Failed',
            main: terminated(3, 'Error', c + S, c + 5 * S),
          }),
          c + 6 * S,
        ),
      );
    }
    obs.push(
      jobAt(
        failedJob({
          rv: '20',
          backoffLimit: 2,
          reason: 'BackoffLimitExceeded',
          message: 'Job has reached the specified backoff limit',
          failed: 3,
          at: T0 + 70 * S,
        }),
        T0 + 70 * S,
      ),
    );
    const { state } = fold(obs);
    expect(state).toMatchObject({
      phase: 'failed',
      reason: 'EXIT_CODE',
      exitCode: 3,
      failedPods: 3,
      currentPod: 'p3',
    });
    expect(state.message).toMatch(
      /^Container "mage-job-container" exited with code 3 after 3 of 3 allowed pods failed;/,
    );
  });

  it('carries the kubelet message when the last pod was evicted', () => {
    const message =
      'The node was low on resource: ephemeral-storage. Threshold quantity: 1Gi, available: 512Mi. Container mage-job-container was using 3Gi, request is 0, has larger consumption of ephemeral-storage.';
    const { state } = fold([
      podAt(
        pod({
          name: 'p1',
          created: T0 + S,
          rv: '3',
          phase: 'Failed',
          reason: 'Evicted',
          message,
          main: terminated(137, 'ContainerStatusUnknown', T0 + 6 * S, T0 + 30 * S),
        }),
        T0 + 31 * S,
      ),
      jobAt(
        failedJob({
          rv: '4',
          reason: 'BackoffLimitExceeded',
          message: 'Job has reached the specified backoff limit',
          failed: 1,
          at: T0 + 31 * S,
        }),
        T0 + 32 * S,
      ),
    ]);
    expect(state.reason).toBe('EVICTED');
    expect(state.message).toContain(message);
  });

  it('reports BACKOFF_LIMIT_EXCEEDED when no failed pod explains it', () => {
    const { state } = fold([
      jobAt(
        failedJob({
          rv: '4',
          backoffLimit: 1,
          reason: 'BackoffLimitExceeded',
          message: 'Job has reached the specified backoff limit',
          failed: 2,
          at: T0 + 31 * S,
        }),
        T0 + 32 * S,
      ),
      // No failed pod arrives within the grace: the failure is reported without a pod cause.
      { kind: 'tick', at: T0 + 37 * S },
    ]);
    expect(state).toMatchObject({ phase: 'failed', reason: 'BACKOFF_LIMIT_EXCEEDED', failedPods: 2 });
    expect(state.message).toContain('backoffLimit of 1: 2 pods failed');
  });

  it('reports DEADLINE_EXCEEDED with the deadline', () => {
    const { state } = fold([
      podAt(runningPod('p1', T0 + S, '2'), T0 + 6 * S),
      jobAt(
        failedJob({
          rv: '5',
          activeDeadlineSeconds: 600,
          reason: 'DeadlineExceeded',
          message: 'Job was active longer than specified deadline',
          failed: 1,
          at: T0 + 600 * S,
        }),
        T0 + 600 * S,
      ),
    ]);
    expect(state).toMatchObject({ phase: 'failed', reason: 'DEADLINE_EXCEEDED', finishedAt: T0 + 600 * S });
    expect(state.message).toContain('activeDeadlineSeconds of 600 s');
  });

  it('reports POD_FAILURE_POLICY with the rule message and the exit code', () => {
    const message =
      'Container mage-job-container for pod etl/mage-data-prep-block-42-x7k2p failed with exit code 42 matching FailJob rule at index 0';
    const { state } = fold([
      jobAt(
        failedJob({ rv: '5', reason: 'PodFailurePolicy', message, failed: 1, at: T0 + 20 * S }),
        T0 + 20 * S,
      ),
    ]);
    expect(state).toMatchObject({ phase: 'failed', reason: 'POD_FAILURE_POLICY', exitCode: 42 });
    expect(state.message).toContain(message);
  });

  it('is final on FailureTarget=True before Failed is set', () => {
    const { state } = fold([
      jobAt(
        failedJob({
          rv: '5',
          reason: 'BackoffLimitExceeded',
          message: 'Job has reached the specified backoff limit',
          failed: 1,
          at: T0 + 9 * S,
          only: 'FailureTarget',
        }),
        T0 + 9 * S,
      ),
      { kind: 'tick', at: T0 + 14 * S },
    ]);
    expect(state.phase).toBe('failed');
  });

  it('waits briefly for the failed pod when the Job failure arrives first, to report its exit code', () => {
    const failure = failedJob({
      rv: '5',
      reason: 'BackoffLimitExceeded',
      message: 'Job has reached the specified backoff limit',
      failed: 1,
      at: T0 + 9 * S,
    });
    const early = fold([jobAt(failure, T0 + 9 * S)]);
    expect(early.state.phase).not.toBe('failed');
    expect(nextDeadline(early.state, defaultMonitorPolicy)).toBe(T0 + 14 * S);
    const exited = pod({
      name: 'p1',
      created: T0 + S,
      rv: '6',
      phase: 'Failed',
      main: terminated(3, 'Error', T0 + 2 * S, T0 + 8 * S),
    });
    const { state } = fold([jobAt(failure, T0 + 9 * S), podAt(exited, T0 + 9 * S + 40)]);
    expect(state).toMatchObject({ phase: 'failed', reason: 'EXIT_CODE', exitCode: 3 });
  });

  it('is not final when a pod fails while the Job may still retry', () => {
    const { state } = fold([
      jobAt(job({ rv: '1', backoffLimit: 3 }), T0),
      podAt(
        pod({
          name: 'p1',
          created: T0 + S,
          rv: '3',
          phase: 'Failed',
          main: terminated(1, 'Error', T0 + 2 * S, T0 + 9 * S),
        }),
        T0 + 10 * S,
      ),
    ]);
    expect(state).toMatchObject({ phase: 'pending', failedPods: 1 });
    expect(state.pods.p1?.terminated?.exitCode).toBe(1);
    expect(state.exitCode).toBeUndefined();
  });
});

describe('reduce: deleted Jobs', () => {
  it('fails with JOB_DELETED when the Job is deleted before a final state', () => {
    const { state } = fold([
      jobAt(created, T0),
      podAt(runningPod('p1', T0 + S, '2'), T0 + 6 * S),
      { kind: 'job-deleted', at: T0 + 9 * S },
    ]);
    expect(state).toMatchObject({ phase: 'failed', reason: 'JOB_DELETED', finishedAt: T0 + 9 * S });
  });

  it('fails with JOB_DELETED when a Job of the same name with another uid appears', () => {
    const { state } = fold([jobAt(created, T0), jobAt(job({ rv: '9', uid: 'another-uid' }), T0 + 5 * S)]);
    expect(state.reason).toBe('JOB_DELETED');
  });

  it('ignores pods of an earlier Job of the same name', () => {
    const { state } = fold([jobAt(created, T0)]);
    const foreign = pod({
      name: 'old',
      created: T0 - 600 * S,
      rv: '1',
      phase: 'Running',
      main: running(T0 - 590 * S),
      jobUid: 'old-uid',
    });
    expect(reduce(state, podAt(foreign, T0 + S), policy)).toBe(state);
  });

  it('stays final whatever comes next, returning the same state', () => {
    const { state } = fold([jobAt(completedJob('5', T0 + 9 * S), T0 + 9 * S)]);
    for (const o of [
      { kind: 'job-deleted', at: T0 + 20 * S } as const,
      tick(T0 + 10 * 60 * MIN),
      podAt(pendingPod('p9', T0, '9'), T0 + 30 * S),
    ]) {
      expect(reduce(state, o, policy)).toBe(state);
    }
  });
});

describe('reduce: fail fast while waiting', () => {
  const pullBackOff = (rv: string) =>
    pod({
      name: 'p1',
      created: T0 + S,
      rv,
      phase: 'Pending',
      main: waiting('ImagePullBackOff', `Back-off pulling image "${IMAGE}"`),
    });
  const errPull = (rv: string) =>
    pod({
      name: 'p1',
      created: T0 + S,
      rv,
      phase: 'Pending',
      main: waiting('ErrImagePull', `failed to pull and unpack image "${IMAGE}": not found`),
    });

  it('fails ImagePullBackOff after the grace, not before, with the image and the kubelet message', () => {
    const before = fold([
      podAt(errPull('2'), T0 + 2 * S),
      podAt(pullBackOff('3'), T0 + 20 * S),
      tick(T0 + 2 * S + policy.imagePullGraceMs - 1),
    ]);
    expect(before.state.phase).toBe('pending');
    expect(nextDeadline(before.state, policy)).toBe(T0 + 2 * S + policy.imagePullGraceMs);
    const after = reduce(before.state, tick(T0 + 2 * S + policy.imagePullGraceMs), policy);
    expect(after).toMatchObject({
      phase: 'failed',
      reason: 'IMAGE_PULL_FAILED',
      containerName: 'mage-job-container',
    });
    expect(after.message).toContain(`image "${IMAGE}"`);
    expect(after.message).toContain(`ImagePullBackOff: Back-off pulling image "${IMAGE}"`);
  });

  it('fails ErrImagePull after the grace', () => {
    const { state } = fold([podAt(errPull('2'), T0 + 2 * S), tick(T0 + 2 * S + policy.imagePullGraceMs)]);
    expect(state.reason).toBe('IMAGE_PULL_FAILED');
    expect(state.message).toContain('ErrImagePull: failed to pull and unpack image');
  });

  it('fails InvalidImageName at once', () => {
    const bad = pod({
      name: 'p1',
      created: T0 + S,
      rv: '2',
      phase: 'Pending',
      main: waiting(
        'InvalidImageName',
        'Failed to apply default image tag "Registry/ETL:latest": couldn\'t parse image reference "Registry/ETL:latest": invalid reference format: repository name must be lowercase',
      ),
    });
    const { state } = fold([podAt(bad, T0 + 2 * S)]);
    expect(state).toMatchObject({ phase: 'failed', reason: 'IMAGE_PULL_FAILED', finishedAt: T0 + 2 * S });
    expect(state.message).toContain('repository name must be lowercase');
  });

  it('fails CreateContainerConfigError after its grace, not before', () => {
    const missing = pod({
      name: 'p1',
      created: T0 + S,
      rv: '2',
      phase: 'Pending',
      main: waiting('CreateContainerConfigError', 'secret "warehouse-credentials" not found'),
    });
    const before = fold([podAt(missing, T0 + 2 * S), tick(T0 + 2 * S + policy.containerConfigGraceMs - 1)]);
    expect(before.state.phase).toBe('pending');
    const after = reduce(before.state, tick(T0 + 2 * S + policy.containerConfigGraceMs), policy);
    expect(after).toMatchObject({ reason: 'CONTAINER_CONFIG_ERROR' });
    expect(after.message).toContain('secret "warehouse-credentials" not found');
  });

  it('fails an unschedulable pod past its timeout with the scheduler message', () => {
    const message =
      '0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.';
    const stuck = pod({ name: 'p1', created: T0 + S, rv: '2', phase: 'Pending', unschedulable: message });
    const before = fold([podAt(stuck, T0 + S), tick(T0 + S + policy.unschedulableTimeoutMs - 1)]);
    expect(before.state.phase).toBe('pending');
    const after = reduce(before.state, tick(T0 + S + policy.unschedulableTimeoutMs), policy);
    expect(after.reason).toBe('UNSCHEDULABLE');
    expect(after.message).toContain('0/3 nodes are available: 3 Insufficient cpu.');
  });

  it('fails with POD_CREATE_FAILED when no pod appears', () => {
    const before = fold([jobAt(created, T0), tick(T0 + policy.noPodTimeoutMs - 1)]);
    expect(before.state.phase).toBe('submitted');
    const after = reduce(before.state, tick(T0 + policy.noPodTimeoutMs), policy);
    expect(after).toMatchObject({ phase: 'failed', reason: 'POD_CREATE_FAILED' });
    expect(after.message).toContain('ResourceQuota');
  });

  it('fails a pod Pending for any other reason after the pending timeout', () => {
    const before = fold([
      podAt(pendingPod('p1', T0 + S, '2'), T0 + S),
      tick(T0 + S + policy.pendingTimeoutMs - 1),
    ]);
    expect(before.state.phase).toBe('pending');
    const after = reduce(before.state, tick(T0 + S + policy.pendingTimeoutMs), policy);
    expect(after.reason).toBe('UNSCHEDULABLE');
    expect(after.message).toContain(
      'stayed Pending for 15 min without starting (last waiting reason ContainerCreating',
    );
  });
});

describe('reduce: every waiting state has a bound', () => {
  const failedPod = pod({
    name: 'p1',
    created: T0 + S,
    rv: '3',
    phase: 'Failed',
    main: terminated(1, 'Error', T0 + 2 * S, T0 + 9 * S),
  });
  const cases: [string, Observation[], number][] = [
    ['no pod yet', [jobAt(created, T0)], T0 + policy.noPodTimeoutMs],
    [
      'pending (ContainerCreating)',
      [podAt(pendingPod('p1', T0 + S, '2'), T0 + S)],
      T0 + S + policy.pendingTimeoutMs,
    ],
    [
      'no replacement after a failed pod',
      [jobAt(job({ rv: '1', backoffLimit: 3 }), T0), podAt(failedPod, T0 + 10 * S)],
      T0 + 10 * S + policy.noPodTimeoutMs + 6 * MIN,
    ],
    [
      'image pull back-off',
      [
        podAt(
          pod({ name: 'p1', created: T0 + S, rv: '2', phase: 'Pending', main: waiting('ImagePullBackOff') }),
          T0 + 3 * S,
        ),
      ],
      T0 + 3 * S + policy.imagePullGraceMs,
    ],
    [
      'create container config error',
      [
        podAt(
          pod({
            name: 'p1',
            created: T0 + S,
            rv: '2',
            phase: 'Pending',
            main: waiting('CreateContainerConfigError'),
          }),
          T0 + 3 * S,
        ),
      ],
      T0 + 3 * S + policy.containerConfigGraceMs,
    ],
    [
      'unschedulable',
      [
        podAt(
          pod({
            name: 'p1',
            created: T0 + S,
            rv: '2',
            phase: 'Pending',
            unschedulable: '0/1 nodes are available',
          }),
          T0 + 3 * S,
        ),
      ],
      T0 + S + policy.unschedulableTimeoutMs,
    ],
    [
      'init container done, main container stuck creating',
      [
        podAt(
          pod({
            name: 'p1',
            created: T0 + S,
            rv: '2',
            phase: 'Pending',
            initContainers: [{ name: 'fetch', state: terminated(0, 'Completed', T0 + 2 * S, T0 + 4 * S) }],
            main: waiting('ContainerCreating'),
          }),
          T0 + 50 * MIN,
        ),
      ],
      T0 + 50 * MIN + policy.pendingTimeoutMs,
    ],
  ];

  it.each(cases)('%s', (_name, observations, bound) => {
    const { state } = fold(observations);
    expect(state.phase).not.toMatch(/succeeded|failed/);
    expect(nextDeadline(state, policy)).toBe(bound);
    expect(reduce(state, tick(bound - 1), policy)).toBe(state);
    expect(reduce(state, tick(bound), policy).phase).toBe('failed');
  });

  it('has no deadline while a container runs, even a long init container', () => {
    const init = pod({
      name: 'p1',
      created: T0 + S,
      rv: '2',
      phase: 'Pending',
      initContainers: [{ name: 'fetch', state: running(T0 + 2 * S) }],
      main: waiting('PodInitializing'),
    });
    const { state } = fold([podAt(init, T0 + 3 * S)]);
    expect(state.phase).toBe('running');
    expect(nextDeadline(state, policy)).toBeUndefined();
    expect(reduce(state, tick(T0 + 24 * 60 * MIN), policy)).toBe(state);
  });
});

describe('suspended Jobs (Kueue and friends)', () => {
  const MIN = 60 * S;
  const suspended = (rv: string, suspend: boolean): Job => {
    const j = job({ rv });
    return { ...j, spec: { ...j.spec!, suspend } };
  };

  it('does not fail a queued Job for having no pod, but bounds the queueing itself', () => {
    const queued = fold([jobAt(suspended('1', true), T0), { kind: 'tick', at: T0 + 10 * MIN }]);
    expect(queued.state.phase).toBe('queued');
    expect(nextDeadline(queued.state, defaultMonitorPolicy)).toBe(T0 + 60 * MIN);
    const { state } = fold([jobAt(suspended('1', true), T0), { kind: 'tick', at: T0 + 60 * MIN }]);
    expect(state).toMatchObject({ phase: 'failed', reason: 'UNSCHEDULABLE' });
    expect(state.message).toMatch(/stayed suspended for 60 min/);
  });

  it('counts the no-pod bound from when the Job was admitted', () => {
    const { state } = fold([
      jobAt(suspended('1', true), T0),
      jobAt(suspended('2', false), T0 + 30 * MIN),
      { kind: 'tick', at: T0 + 34 * MIN },
    ]);
    expect(state.phase).toBe('pending');
    expect(nextDeadline(state, defaultMonitorPolicy)).toBe(T0 + 35 * MIN);
  });
});

describe('an earlier Job of the same name, still in the shared cache', () => {
  const ours = { uid: 'uid-new', resourceVersion: '500' };
  const start = () => initialBlockState(JOB_NAME, T0, ours);

  it('ignores the earlier Job (older version, other uid) and its deletion', () => {
    const old = {
      ...completedJob('400', T0 - 10 * S),
      metadata: { ...completedJob('400', T0 - 10 * S).metadata, uid: 'uid-old' },
    };
    let state = reduce(start(), { kind: 'job', job: old, at: T0 + S }, defaultMonitorPolicy);
    expect(state.phase).toBe('submitted');
    state = reduce(
      state,
      { kind: 'job-deleted', uid: 'uid-old', resourceVersion: '450', at: T0 + 2 * S },
      defaultMonitorPolicy,
    );
    expect(state.phase).toBe('submitted');
  });

  it('still reports our own Job deleted, and a newer Job that replaced ours', () => {
    expect(
      reduce(
        start(),
        { kind: 'job-deleted', uid: 'uid-new', resourceVersion: '600', at: T0 + S },
        defaultMonitorPolicy,
      ),
    ).toMatchObject({
      phase: 'failed',
      reason: 'JOB_DELETED',
    });
    const newer = { ...job({ rv: '700', uid: 'uid-other' }) };
    expect(reduce(start(), { kind: 'job', job: newer, at: T0 + S }, defaultMonitorPolicy)).toMatchObject({
      phase: 'failed',
      reason: 'JOB_DELETED',
    });
  });
});

describe('Kueue preemption: a Job suspended again after its pod existed', () => {
  const MIN = 60 * S;
  const withSuspend = (j: Job, suspend: boolean): Job => ({ ...j, spec: { ...j.spec!, suspend } });
  const preempted = (): Observation[] => [
    jobAt(job({ rv: '10' }), T0),
    podAt(
      pod({ name: 'p1', created: T0 + MIN, rv: '11', phase: 'Running', main: running(T0 + MIN) }),
      T0 + MIN,
    ),
    // Kueue preempts: suspend=true; the Job controller terminates the pod (SIGTERM → 143) and removes it.
    jobAt(
      withSuspend(job({ rv: '20', status: { active: 0, ready: 0, terminating: 1 } }), true),
      T0 + 10 * MIN,
    ),
    podAt(
      pod({
        name: 'p1',
        created: T0 + MIN,
        rv: '21',
        phase: 'Failed',
        main: terminated(143, 'Error', T0 + MIN, T0 + 10 * MIN),
      }),
      T0 + 10 * MIN,
    ),
    { kind: 'pod-deleted', podName: 'p1', at: T0 + 10 * MIN + 5 * S },
  ];

  it('waits under the suspended bound, not the "no replacement pod" bound', () => {
    // Still queued 12 minutes later (quota used by higher-priority work).
    const { state } = fold([...preempted(), tick(T0 + 22 * MIN)]);
    expect(state.phase).not.toBe('failed');
    expect(state.failedPods).toBe(0);
    expect(nextDeadline(state, policy)).toBe(T0 + 70 * MIN);
  });

  it('fails UNSCHEDULABLE at the suspended bound, saying it was preempted', () => {
    const { state } = fold([...preempted(), tick(T0 + 70 * MIN)]);
    expect(state).toMatchObject({ phase: 'failed', reason: 'UNSCHEDULABLE', failedPods: 0 });
    expect(state.message).toMatch(/preempted it and did not admit it again/);
  });

  it('after re-admission, waits for the new pod under the no-pod bound from the resume, then runs it to success', () => {
    const resumed = [...preempted(), jobAt(job({ rv: '30', status: { active: 0 } }), T0 + 50 * MIN)];
    const waitingForPod = fold(resumed).state;
    expect(waitingForPod.phase).not.toBe('failed');
    expect(nextDeadline(waitingForPod, policy)).toBe(T0 + 55 * MIN);
    const { state } = fold([
      ...resumed,
      podAt(
        pod({ name: 'p2', created: T0 + 51 * MIN, rv: '31', phase: 'Running', main: running(T0 + 51 * MIN) }),
        T0 + 51 * MIN,
      ),
      tick(T0 + 80 * MIN),
      podAt(
        pod({
          name: 'p2',
          created: T0 + 51 * MIN,
          rv: '32',
          phase: 'Succeeded',
          main: terminated(0, 'Completed', T0 + 51 * MIN, T0 + 90 * MIN),
        }),
        T0 + 90 * MIN,
      ),
      jobAt(completedJob('33', T0 + 90 * MIN), T0 + 90 * MIN),
    ]);
    expect(state).toMatchObject({ phase: 'succeeded', failedPods: 0, currentPod: 'p2' });
  });

  it('after the resume, the preempted pod is no failure and is not the pod a replacement is waited for', () => {
    const { state } = fold([
      ...preempted(),
      jobAt(job({ rv: '30', status: { active: 1 } }), T0 + 30 * MIN),
      tick(T0 + 34 * MIN),
    ]);
    expect(state).toMatchObject({ phase: 'pending', failedPods: 0 });
  });
});
