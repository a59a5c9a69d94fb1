import type { BlockDefinition } from '../config/index.js';
import { withRetries } from './dag-api.js';
import type { DagContext } from './dag-context.js';
import { runJobOf } from './dag-identity.js';

/**
 * What the API server holds under one attempt's deterministic Job name: `exists` (this very attempt's
 * Job, running or finished), `absent`, `deleting` (ours, with a deletionTimestamp: it is going away) or
 * `foreign` (a Job of that name that is not this attempt's).
 */
export type AttemptJobState = 'exists' | 'absent' | 'deleting' | 'foreign';

/** Where an attempt's Job is and what was found there. */
export interface AttemptJobLookup {
  state: AttemptJobState;
  jobName: string;
  namespace: string;
}

/**
 * Looks up the Job of one attempt by its name and full identity, after the attempt ended without a
 * known outcome (its create may have reached the server although no answer came back). Transient API
 * failures are tried again a few times; a lookup that still fails rejects: the outcome stays unknown.
 */
export async function lookUpAttemptJob(
  ctx: DagContext,
  block: BlockDefinition,
  attempt: number,
  signal: AbortSignal,
  upstreamOutputs: Readonly<Record<string, unknown>>,
): Promise<AttemptJobLookup> {
  const { jobName, namespace } = await ctx.prepare(block, attempt, signal, upstreamOutputs);
  const job = await withRetries(ctx.clock, signal, () =>
    ctx.jobClient.getJob(namespace, jobName, { signal }),
  );
  const found = (state: AttemptJobState): AttemptJobLookup => ({ state, jobName, namespace });
  if (!job) return found('absent');
  const ours = runJobOf(ctx, job);
  if (ours?.block.uuid !== block.uuid || ours.attempt !== attempt) return found('foreign');
  return found(job.metadata.deletionTimestamp ? 'deleting' : 'exists');
}
