import { isK8sExecutorError, K8sExecutorError } from '../errors/base.js';
import { isJobOfRun } from '../naming/labels.js';
import type { Clock } from '../ports/clock.js';
import type { JobClient } from '../ports/job-client.js';
import type { Job } from '../types/kube.js';
import type { PreparedJob } from './run-job.js';

/**
 * How long a run waits for an earlier Job of its name that it finds being deleted (a re-run right
 * after a cancel, while the Foreground deletion waits for the pods' grace periods) before giving up.
 */
export const DELETION_WAIT_MS = 300_000;

/** The first and the longest wait between two reads of a Job being deleted. */
const DELETION_POLL_MS = { initial: 1000, max: 10_000 };

/** A 409 whose Job is gone when read (deleted meanwhile) is retried this many times in a row. */
const VANISHED_RETRIES = 3;

/** The Job a run follows. */
export interface Submission {
  /** The Job as created or adopted (its uid is the one every later delete names). */
  job: Job;
  /** True when it already existed for this very run (resume). */
  adopted: boolean;
}

/** What is submitted: a run's Job, whose body is made when its first create is sent. */
export type SubmissionTarget = Omit<PreparedJob, 'job'> & {
  /** The Job's body (the same object every time it is called). */
  body(): Job;
};

/**
 * Runs one create: the executor holds one of its submission slots around each (src/executor/
 * submission-slots.ts), not around the waits between them.
 */
export type CreateGate = (create: () => Promise<Job>) => Promise<Job>;

/** The two signals of a submission. */
export interface SubmitSignals {
  /**
   * Aborts the API requests. The caller gives it a bound past its own cancel: an abort only stops the
   * client's wait, not the API server, so a create in flight must be let settle to know what exists.
   */
  requests?: AbortSignal | undefined;
  /** Aborts the waits for an earlier Job to be deleted (the run's own signal: nothing exists yet). */
  waits?: AbortSignal | undefined;
}

/**
 * Creates the Job, or adopts it when a 409 names a Job of this very run (resume). A Job of that name
 * found being deleted (`deletionTimestamp` set: a re-run right after a cancel) is waited for, at most
 * {@link DELETION_WAIT_MS}, and the Job is then created anew. A 409 whose Job is gone when read is
 * retried; a Job of that name that is not this run's is a collision and is never touched.
 *
 * @throws K8sExecutorError `JOB_NAME_COLLISION` for a foreign Job, or a Job still being deleted after the bound.
 * @throws ApiError what the API answers otherwise.
 */
export async function submitJob(
  jobClient: JobClient,
  clock: Clock,
  prepared: SubmissionTarget,
  signals: SubmitSignals = {},
  gate: CreateGate = (create) => create(),
): Promise<Submission> {
  const { namespace, jobName } = prepared;
  let vanished = 0;
  for (;;) {
    try {
      const job = await gate(() =>
        jobClient.createJob(namespace, prepared.body(), { signal: signals.requests }),
      );
      return { job, adopted: false };
    } catch (error) {
      if (!isK8sExecutorError(error) || error.code !== 'API_CONFLICT') throw error;
    }
    let existing = await jobClient.getJob(namespace, jobName, { signal: signals.requests });
    if (existing?.metadata.deletionTimestamp) {
      existing = await untilDeleted(jobClient, clock, prepared, existing, signals);
      if (!existing) continue;
    }
    if (!existing) {
      if (++vanished > VANISHED_RETRIES) throw collision(prepared, 'keeps being created and deleted');
      continue;
    }
    if (isJobOfRun(existing, prepared.identity, prepared.clusterId, prepared.kind)) {
      return { job: existing, adopted: true };
    }
    throw collision(prepared, 'was not created by k8s-executor for this run');
  }
}

/**
 * Reads a Job being deleted again and again (1 s doubling to 10 s) until it is gone (undefined) or the
 * name holds a Job that is not being deleted (returned), at most {@link DELETION_WAIT_MS}.
 */
async function untilDeleted(
  jobClient: JobClient,
  clock: Clock,
  prepared: SubmissionTarget,
  dying: Job,
  signals: SubmitSignals,
): Promise<Job | undefined> {
  const since = clock.now();
  let pollMs = DELETION_POLL_MS.initial;
  let current: Job | undefined = dying;
  while (current?.metadata.deletionTimestamp) {
    if (clock.now() - since >= DELETION_WAIT_MS) throw stillDeleting(prepared, current);
    await clock.sleep(pollMs, signals.waits);
    pollMs = Math.min(pollMs * 2, DELETION_POLL_MS.max);
    current = await jobClient.getJob(prepared.namespace, prepared.jobName, { signal: signals.requests });
  }
  return current;
}

/**
 * The Job that holds the run's name now, read once: `ours` when it is this run's (by its identity
 * labels), `foreign` when it is someone else's, `none` when there is none.
 * @throws ApiError when it cannot be read.
 */
export async function readRunJob(
  jobClient: JobClient,
  prepared: Omit<PreparedJob, 'job'>,
): Promise<{ kind: 'ours'; job: Job } | { kind: 'foreign' } | { kind: 'none' }> {
  const job = await jobClient.getJob(prepared.namespace, prepared.jobName);
  if (!job) return { kind: 'none' };
  return isJobOfRun(job, prepared.identity, prepared.clusterId, prepared.kind)
    ? { kind: 'ours', job }
    : { kind: 'foreign' };
}

function collision(prepared: Omit<PreparedJob, 'job'>, why: string): K8sExecutorError {
  return new K8sExecutorError(
    'JOB_NAME_COLLISION',
    `A Job named "${prepared.jobName}" already exists in namespace "${prepared.namespace}" and ${why}.`,
    {
      hint: 'Delete that Job, or set a different job_name_prefix or cluster id (MAGE_CLUSTER_UUID) so names do not collide; within one run, two run ids that differ only in case or `_`/`-` get one name (docs/naming.md).',
    },
  );
}

function stillDeleting(prepared: Omit<PreparedJob, 'job'>, job: Job): K8sExecutorError {
  const { jobName, namespace } = prepared;
  const held = job.metadata.finalizers ?? [];
  const finalizers = held.length > 0 ? ` (finalizers: ${held.join(', ')})` : '';
  return new K8sExecutorError(
    'JOB_NAME_COLLISION',
    `Job "${jobName}" in namespace "${namespace}" has been being deleted since ${job.metadata.deletionTimestamp}${finalizers} and was still there after ${DELETION_WAIT_MS / 60_000} min, so this run cannot create its Job.`,
    {
      hint: `See what holds it with \`kubectl describe job ${jobName} -n ${namespace}\` (pods that do not stop, a finalizer nobody removes), then run the block again.`,
    },
  );
}
