import type { BlockDefinition, RetryConfig } from '../config/index.js';
import type { ErrorCode } from '../errors/codes.js';
import { type InfrastructureCause, infrastructureCause, jobOutcome } from '../monitor/job-outcome.js';
import { newestPod, type PodRecord, summarizePod } from '../monitor/pod-summary.js';
import { initialBlockState } from '../monitor/reduce.js';
import type { BlockState } from '../monitor/types.js';
import { type ConfigRecord, recordedConfig } from '../spec/drift.js';
import type { Job, Pod } from '../types/kube.js';
import { type TerminationFields, terminationFields, terminationSeen } from './block-output.js';
import type { DagContext } from './dag-context.js';
import { listRunJobs, listRunPods } from './dag-identity.js';
import { nextAttempt } from './dag-retry.js';
import type { AttemptRecord, ConfigDriftEvent } from './pipeline-types.js';

/** What an earlier run of the same pipeline run left behind for one block. */
export interface EarlierAttempt {
  attempt: number;
  state: 'succeeded' | 'failed' | 'active';
  jobName: string;
  /** Why it failed, from the Job's conditions and its last failed pod (when its pods are still there). */
  reason?: ErrorCode;
  /** Set when it failed for an infrastructure reason (its pods tell). */
  infrastructure?: InfrastructureCause;
  /** Its termination message and, when it succeeded, its output (from its pod, when still there). */
  termination: TerminationFields;
  /** Whether its block container's end was read from its pod (then `termination` is all there is). */
  terminationKnown: boolean;
  /** The config record on its Job; undefined for a Job made by a version without one. */
  config?: ConfigRecord;
}

/** A block's latest earlier attempt was made from another config than the block's now. */
export interface BlockDrift {
  /** One line per changed field. */
  changes: string[];
  /** Whether the run may run the block again for it (`rerunChanged`). */
  rerun: boolean;
}

/** Where a block starts, given what an earlier run left. */
export interface StartingPoint {
  /** The attempts an earlier run finished, as records (`fromEarlierRun`). */
  attempts: AttemptRecord[];
  /** Set when the block is already over: its status, the record that decided it, its termination fields. */
  finished?: { status: 'succeeded' | 'failed'; record: AttemptRecord; termination: TerminationFields };
  /** The attempt to run next, when it is not the first. */
  nextAttempt?: number;
  /** Set when the latest earlier attempt's config differs from the block's now: what to report. */
  drift?: Omit<ConfigDriftEvent, 'type' | 'blockUuid' | 'at'>;
}

/** The retry policy of a block without `retry_config`: one attempt. */
export const NO_RETRY: RetryConfig = {
  retries: 0,
  delaySeconds: 0,
  maxDelaySeconds: 0,
  exponentialBackoff: false,
};

/**
 * Resolves every k8s block's config up front (an invalid one stops the run before any Job exists),
 * which tells the namespaces of the run (added to `namespaces`), then reads what an earlier run of the
 * same pipeline run left there (see {@link findEarlierAttempts}).
 */
export async function readEarlierRun(
  ctx: DagContext,
  namespaces: Set<string>,
  signal: AbortSignal,
): Promise<Map<string, EarlierAttempt[]>> {
  const k8sBlocks = ctx.pipeline.blocks.filter((b) => ctx.isK8s(b));
  if (k8sBlocks.length === 0) return new Map();
  for (const block of k8sBlocks) namespaces.add((await ctx.prepare(block, 1, signal)).namespace);
  return findEarlierAttempts(ctx, namespaces, signal);
}

/**
 * Reads the Jobs an earlier run of this pipeline run left behind in `namespaces`, by block uuid, oldest
 * attempt first. Only Jobs with this run's full identity count (see `runJobOf`). Their pods (one list
 * per namespace, when it has any of them) tell the precise reason of a failure, whether it was the
 * infrastructure's, and a success's output.
 */
export async function findEarlierAttempts(
  ctx: DagContext,
  namespaces: ReadonlySet<string>,
  signal: AbortSignal,
): Promise<Map<string, EarlierAttempt[]>> {
  const found = new Map<string, EarlierAttempt[]>();
  for (const namespace of namespaces) {
    const jobs = await listRunJobs(ctx, namespace, signal);
    const pods = jobs.length > 0 ? await listRunPods(ctx, namespace, signal) : [];
    for (const { job, block, attempt } of jobs) {
      const jobName = job.metadata.name ?? '';
      const state = finalStateOf(job, pods, ctx.clock.now());
      const phase = state.phase === 'succeeded' || state.phase === 'failed' ? state.phase : 'active';
      const infrastructure = infrastructureCause(state);
      const container = job.spec?.template.spec.containers[0]?.name ?? '';
      const config = recordedConfig(job);
      const entry: EarlierAttempt = {
        attempt,
        jobName,
        state: phase,
        ...(phase === 'failed' && state.reason ? { reason: state.reason } : {}),
        ...(infrastructure ? { infrastructure } : {}),
        termination: phase === 'active' ? {} : terminationFields(state, container),
        terminationKnown: phase !== 'active' && terminationSeen(state, container),
        ...(config ? { config } : {}),
      };
      found.set(
        block.uuid,
        [...(found.get(block.uuid) ?? []), entry].sort((a, b) => a.attempt - b.attempt),
      );
    }
  }
  return found;
}

/** A Job's state as its conditions and its pods (those it owns) tell it now; not final while it runs. */
function finalStateOf(job: Job, pods: readonly Pod[], at: number): BlockState {
  const uid = job.metadata.uid;
  const records: PodRecord[] = pods
    .filter((pod) => !uid || pod.metadata.ownerReferences?.some((o) => o.uid === uid))
    .map((pod) => summarizePod(pod, at));
  const current = newestPod(records);
  const base = initialBlockState(job.metadata.name ?? '', at, uid ? { uid } : undefined);
  const seen: BlockState = {
    ...base,
    pods: Object.fromEntries(records.map((r) => [r.name, r])),
    failedPods: Math.max(job.status?.failed ?? 0, records.filter((r) => r.phase === 'Failed').length),
    ...(current ? { currentPod: current.name } : {}),
  };
  const outcome = jobOutcome(job, seen);
  return outcome ? { ...seen, ...outcome, finishedAt: at } : seen;
}

/**
 * A block's starting point from what an earlier run did: the latest attempt succeeded → done; still
 * active → run that same attempt (create → 409 → adopt); failed → the next attempt if the retry rules
 * allow (`retry_config`, and infrastructure failures within `infrastructureRetries`; see `nextAttempt`),
 * else failed for good. With `drift` (the latest attempt's config differs from the block's now), that
 * attempt's record carries the changes, and a succeeded block that may be run again for it starts a
 * new attempt instead.
 */
export function startingPoint(
  block: BlockDefinition,
  earlier: EarlierAttempt[],
  now: number,
  infrastructureRetries: number,
  drift?: BlockDrift,
): StartingPoint {
  const last = earlier.at(-1);
  const attempts: AttemptRecord[] = earlier
    .filter((e) => e.state !== 'active')
    .map((e) => ({
      attempt: e.attempt,
      jobName: e.jobName,
      status: e.state === 'succeeded' ? 'succeeded' : 'failed',
      ...(e.state === 'failed'
        ? {
            reason: e.reason ?? 'JOB_FAILED',
            message: `Attempt ${e.attempt} failed in an earlier run (Job ${e.jobName}).`,
          }
        : {}),
      ...(e.infrastructure ? { infrastructure: e.infrastructure } : {}),
      fromEarlierRun: true,
      ...(drift && e === last ? { configDrift: drift.changes } : {}),
      startedAt: now,
      finishedAt: now,
    }));
  if (!last) return { attempts };
  const report = (action: ConfigDriftEvent['action']) =>
    drift
      ? {
          drift: {
            attempt: last.attempt,
            jobName: last.jobName,
            earlier: last.state,
            action,
            changes: drift.changes,
          },
        }
      : {};
  const finished = (status: 'succeeded' | 'failed') => ({
    attempts,
    finished: { status, record: attempts.at(-1)!, termination: last.termination },
    ...report('kept'),
  });
  if (last.state === 'active') return { attempts, nextAttempt: last.attempt, ...report('adopted') };
  if (last.state === 'succeeded') {
    if (!drift?.rerun) return finished('succeeded');
    return { attempts, nextAttempt: last.attempt + 1, ...report('rerun') };
  }
  const next = nextAttempt(block.retry ?? NO_RETRY, infrastructureRetries, attempts);
  return next.kind === 'none'
    ? finished('failed')
    : { attempts, nextAttempt: next.attempt, ...report('retried') };
}
