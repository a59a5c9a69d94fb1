import { isK8sExecutorError, K8sExecutorError } from '../errors/base.js';
import type { ErrorCode } from '../errors/codes.js';
import { followJob } from '../monitor/follow-job.js';
import type { BlockState, MonitorPolicy } from '../monitor/types.js';
import type { WatchHubs } from '../monitor/watch-hub.js';
import { isJobOfRun } from '../naming/labels.js';
import type { Clock } from '../ports/clock.js';
import type { JobClient } from '../ports/job-client.js';
import type { Job, KubeEvent } from '../types/kube.js';
import type { RunIdentity } from '../types/run.js';
import { LogFollower } from './log-follower.js';
import type { BlockEvent, BlockResult, ExecuteOptions, WarningEvent } from './types.js';

/** What running one Job needs from its executor. */
export interface JobRunnerDeps {
  jobClient: JobClient;
  clock: Clock;
  hubs: WatchHubs;
  policy: MonitorPolicy;
  /** Log lines kept in the result. */
  logTailLines: number;
  /** How long to let log streams drain after the final state before stopping them. */
  logDrainMs: number;
}

/** A built Job and who it is for. */
export interface PreparedJob {
  job: Job;
  jobName: string;
  namespace: string;
  containerName: string;
  identity: RunIdentity;
  clusterId: string;
  kind: 'block' | 'pipeline';
}

/** Reasons decided before the Job itself failed: the Job must be deleted or it could still run later. */
const FAIL_FAST: ReadonlySet<ErrorCode> = new Set([
  'IMAGE_PULL_FAILED',
  'CONTAINER_CONFIG_ERROR',
  'UNSCHEDULABLE',
  'POD_CREATE_FAILED',
]);

/**
 * Creates (or adopts) a Job, follows it to a final state through the shared watch, captures its
 * diagnostics, and cleans up. Failures of the block are results; only problems that make the run
 * impossible (API errors, a foreign Job with our name) are thrown.
 */
export async function runPreparedJob(
  deps: JobRunnerDeps,
  prepared: PreparedJob,
  options: ExecuteOptions = {},
): Promise<BlockResult> {
  const { jobClient, clock } = deps;
  const { namespace, jobName } = prepared;
  const { signal } = options;
  const emit = (type: BlockEvent['type'], state?: BlockState) =>
    options.onEvent?.({ type, jobName, namespace, at: clock.now(), ...(state ? { state } : {}) });
  const submittedAt = clock.now();

  if (signal?.aborted)
    return cancelledResult(prepared, submittedAt, clock.now(), false, 'before submission', false);

  let submission: { job: Job; adopted: boolean };
  try {
    submission = await submit(jobClient, prepared, signal);
  } catch (error) {
    if (!signal?.aborted) throw error;
    // The create may have reached the server before the abort: delete whatever exists.
    const deleted = await deleteQuietly(jobClient, namespace, jobName, 'Foreground');
    return cancelledResult(prepared, submittedAt, clock.now(), false, 'during submission', deleted);
  }
  const { adopted, job: created } = submission;
  emit(adopted ? 'adopted' : 'submitted');

  const follower = new LogFollower(
    jobClient,
    namespace,
    jobName,
    prepared.containerName,
    deps.logTailLines,
    options.onLog,
  );
  let state: BlockState;
  try {
    state = await followJob({
      hub: deps.hubs.hub(namespace),
      jobName,
      clock,
      policy: deps.policy,
      submittedAt,
      created: {
        ...(created.metadata.uid ? { uid: created.metadata.uid } : {}),
        ...(created.metadata.resourceVersion ? { resourceVersion: created.metadata.resourceVersion } : {}),
      },
      ...(signal ? { signal } : {}),
      onTransition: (t) => emit(t.to, t.state),
      onState: (s) => {
        // A container that has not started has no log yet (the API answers 400): follow once it runs or ran.
        const pod = s.currentPod ? s.pods[s.currentPod] : undefined;
        if (options.onLog && pod && (pod.terminated || pod.phase !== 'Pending')) {
          follower.follow(pod.name);
        }
      },
    });
  } catch (error) {
    await follower.finish(Promise.resolve());
    if (signal?.aborted) {
      const deleted = await deleteQuietly(jobClient, namespace, jobName, 'Foreground');
      emit('cancelled');
      return cancelledResult(prepared, submittedAt, clock.now(), adopted, 'while running', deleted);
    }
    if (isK8sExecutorError(error) && error.code === 'CANCELLED') {
      // The executor was closed (a shutdown, not a cancel): like a crash, the Job is left to finish,
      // and the next executor adopts it.
      throw new K8sExecutorError(
        'CANCELLED',
        `The executor was closed while Job "${jobName}" was running; the Job keeps running.`,
        {
          cause: error,
          hint: 'Execute the same block run again (same ids and attempt) to adopt it, or delete it.',
        },
      );
    }
    // The Job cannot be followed (e.g. `list` is forbidden): leave nothing running behind the error.
    await deleteQuietly(jobClient, namespace, jobName, 'Foreground');
    throw error;
  }

  const failed = state.phase === 'failed';
  const drain = new AbortController();
  await follower.finish(clock.sleep(deps.logDrainMs, drain.signal));
  drain.abort();
  const lastLogLines =
    follower.active || !failed || !state.currentPod
      ? follower.lastLines()
      : await readTail(jobClient, namespace, state.currentPod, prepared.containerName, deps.logTailLines);
  const warningEvents = failed ? await collectWarnings(jobClient, namespace, jobName, state) : [];

  let cleanupError: string | undefined;
  const ttlSet = prepared.job.spec?.ttlSecondsAfterFinished !== undefined;
  const failFast = failed && state.reason !== undefined && FAIL_FAST.has(state.reason);
  if (failFast || (!options.keepJob && !ttlSet)) {
    try {
      await jobClient.deleteJob(namespace, jobName, { propagationPolicy: 'Background' });
    } catch (error) {
      cleanupError = error instanceof Error ? error.message : String(error);
    }
  }

  const finishedAt = state.finishedAt ?? clock.now();
  return {
    status: failed ? 'failed' : 'succeeded',
    jobName,
    namespace,
    ...(state.reason ? { reason: state.reason } : {}),
    ...(state.message ? { message: state.message } : {}),
    ...(state.exitCode !== undefined ? { exitCode: state.exitCode } : {}),
    adopted,
    failedPods: state.failedPods,
    timings: {
      submittedAt,
      ...(state.startedAt !== undefined ? { startedAt: state.startedAt } : {}),
      finishedAt,
      durationMs: finishedAt - submittedAt,
    },
    lastLogLines,
    warningEvents,
    ...(cleanupError ? { cleanupError } : {}),
  };
}

/**
 * Creates the Job, or adopts it when a 409 names a Job of this very run (resume). A 409 whose Job is
 * gone by the time it is read (deleted meanwhile) is retried once; a foreign Job is a collision.
 */
async function submit(
  jobClient: JobClient,
  prepared: PreparedJob,
  signal: AbortSignal | undefined,
): Promise<{ job: Job; adopted: boolean }> {
  const { namespace, jobName } = prepared;
  for (let attempt = 1; ; attempt++) {
    try {
      return { job: await jobClient.createJob(namespace, prepared.job, { signal }), adopted: false };
    } catch (error) {
      if (!isK8sExecutorError(error) || error.code !== 'API_CONFLICT') throw error;
    }
    const existing = await jobClient.getJob(namespace, jobName, { signal });
    if (existing && isJobOfRun(existing, prepared.identity, prepared.clusterId, prepared.kind)) {
      return { job: existing, adopted: true };
    }
    if (existing || attempt > 1) {
      throw new K8sExecutorError(
        'JOB_NAME_COLLISION',
        `A Job named "${jobName}" already exists in namespace "${namespace}" and was not created by k8s-executor for this run.`,
        {
          hint: 'Delete that Job, or set a different job_name_prefix or cluster id (MAGE_CLUSTER_UUID) so names do not collide.',
        },
      );
    }
  }
}

function cancelledResult(
  prepared: PreparedJob,
  submittedAt: number,
  finishedAt: number,
  adopted: boolean,
  when: string,
  deleted: boolean,
): BlockResult {
  const cleanup = deleted
    ? ` Job "${prepared.jobName}" was deleted with its pods.`
    : when === 'before submission'
      ? ' No Job was created.'
      : ` Deleting Job "${prepared.jobName}" failed: delete it by hand.`;
  return {
    status: 'cancelled',
    jobName: prepared.jobName,
    namespace: prepared.namespace,
    reason: 'CANCELLED',
    message: `Cancelled ${when}.${cleanup}`,
    adopted,
    failedPods: 0,
    timings: { submittedAt, finishedAt, durationMs: finishedAt - submittedAt },
    lastLogLines: [],
    warningEvents: [],
  };
}

/** Deletes a Job; resolves whether it is gone (deleted now, or already), never rejects. */
async function deleteQuietly(
  jobClient: JobClient,
  namespace: string,
  name: string,
  propagationPolicy: 'Foreground' | 'Background',
): Promise<boolean> {
  try {
    await jobClient.deleteJob(namespace, name, { propagationPolicy });
    return true;
  } catch {
    // The caller reports the cancellation or error and says whether the Job is gone.
    return false;
  }
}

async function readTail(
  jobClient: JobClient,
  namespace: string,
  pod: string,
  container: string,
  lines: number,
): Promise<string[]> {
  try {
    const text = await jobClient.readPodLog(namespace, pod, { container, tailLines: lines });
    return text.split('\n').filter((l, i, all) => l !== '' || i < all.length - 1);
  } catch {
    return [];
  }
}

async function collectWarnings(
  jobClient: JobClient,
  namespace: string,
  jobName: string,
  state: BlockState,
): Promise<WarningEvent[]> {
  const objects: { kind: 'Job' | 'Pod'; name: string }[] = [{ kind: 'Job', name: jobName }];
  for (const pod of Object.keys(state.pods).slice(-3)) objects.push({ kind: 'Pod', name: pod });
  const lists = await Promise.all(
    objects.map((o) => jobClient.listWarningEvents(namespace, o).catch((): KubeEvent[] => [])),
  );
  return lists.flatMap((events, i) =>
    events.map((e) => ({
      object: `${objects[i]!.kind}/${objects[i]!.name}`,
      reason: e.reason ?? '',
      message: e.message ?? '',
      count: e.count ?? 1,
    })),
  );
}
