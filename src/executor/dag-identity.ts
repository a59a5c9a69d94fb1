import type { BlockDefinition } from '../config/index.js';
import { IDENTITY_KEYS, isJobOfRun, managedSelector, toLabelValue } from '../naming/labels.js';
import type { Job, Pod } from '../types/kube.js';
import { withRetries } from './dag-api.js';
import type { DagContext } from './dag-context.js';

/** Which block and attempt of a pipeline run a Job is. */
export interface RunJob {
  job: Job;
  block: BlockDefinition;
  attempt: number;
}

/**
 * The label selector of every Job of this pipeline run. Labels are sanitized values, so two run ids can
 * share one (`…+01:00` and `…-01:00`): the selector only narrows the list; {@link runJobOf} decides.
 */
export function runSelector(ctx: DagContext): string {
  return [
    managedSelector(ctx.clusterId),
    `${IDENTITY_KEYS.pipelineRunId}=${toLabelValue(String(ctx.request.pipelineRunId))}`,
  ].join(',');
}

/**
 * The block and attempt of this run that `job` is, or undefined for any other Job. Compares the full
 * identity from the annotations (cluster id, pipeline uuid, pipeline run id, block uuid), then the
 * labels and block run id as adoption does ({@link isJobOfRun}): a Job without our annotations, or of
 * a run whose ids only sanitize to the same labels, is never taken as this run's.
 */
export function runJobOf(ctx: DagContext, job: Job): RunJob | undefined {
  const annotations = job.metadata.annotations ?? {};
  const block = ctx.block(annotations[IDENTITY_KEYS.block] ?? '');
  const attempt = Number(annotations[IDENTITY_KEYS.attempt]);
  if (
    !block ||
    annotations[IDENTITY_KEYS.cluster] !== ctx.clusterId ||
    annotations[IDENTITY_KEYS.pipeline] !== ctx.request.pipelineUuid ||
    annotations[IDENTITY_KEYS.pipelineRunId] !== String(ctx.request.pipelineRunId) ||
    !Number.isInteger(attempt) ||
    attempt < 1
  )
    return undefined;
  const identity = {
    pipelineUuid: ctx.request.pipelineUuid,
    pipelineRunId: String(ctx.request.pipelineRunId),
    blockUuid: block.uuid,
    blockRunId: ctx.blockRunId(block.uuid),
    attempt,
  };
  const ours = isJobOfRun(job, identity, ctx.clusterId, 'block');
  return ours ? { job, block, attempt } : undefined;
}

/** Every Job of this run in `namespace` (listed by labels, kept by full identity). */
export async function listRunJobs(
  ctx: DagContext,
  namespace: string,
  signal?: AbortSignal,
): Promise<RunJob[]> {
  const list = await withRetries(ctx.clock, signal, () =>
    ctx.jobClient.listJobs(namespace, runSelector(ctx), signal ? { signal } : {}),
  );
  return list.items.flatMap((job) => runJobOf(ctx, job) ?? []);
}

/** Every pod of this run's Jobs in `namespace` (the pods carry the Jobs' labels; match them by owner uid). */
export async function listRunPods(ctx: DagContext, namespace: string, signal?: AbortSignal): Promise<Pod[]> {
  const list = await withRetries(ctx.clock, signal, () =>
    ctx.jobClient.listPods(namespace, runSelector(ctx), signal ? { signal } : {}),
  );
  return list.items;
}
