import type { BlockDefinition } from '../config/index.js';
import { ConfigError } from '../errors/config-error.js';
import { type ConfigRecord, configDrift, describeConfigDrift, recordedConfig } from '../spec/drift.js';
import type { DagContext } from './dag-context.js';
import type { BlockDrift, EarlierAttempt } from './dag-resume.js';

/**
 * Config drift on resume: for every block an earlier run left an attempt of, compares the config
 * record on that attempt's Job with the block's config now, resolved for the same attempt and run ids
 * (so a value templated from `{{ attempt }}` or the run ids is the same on both sides) and with the
 * same `upstream_outputs` (those the earlier run's upstream attempts give). Only the block's latest
 * attempt is compared: it is the one that decides where the block starts.
 *
 * A Job without a record (made by an older version) cannot tell: never drift. Neither can a block
 * whose upstream output is not known any more (its pod is gone, or it is a local block, whose output
 * no Job keeps) when the block's pod template depends on it: then no drift is reported for it.
 *
 * @returns the drifted blocks by uuid; `rerun` says whether the run may run each again
 *   ({@link PipelineRun.rerunChanged}).
 */
export async function findConfigDrift(
  ctx: DagContext,
  earlier: ReadonlyMap<string, readonly EarlierAttempt[]>,
  signal: AbortSignal,
): Promise<Map<string, BlockDrift>> {
  const found = new Map<string, BlockDrift>();
  for (const block of ctx.pipeline.blocks) {
    const latest = earlier.get(block.uuid)?.at(-1);
    if (!latest?.config || !ctx.isK8s(block)) continue;
    const changes = await changesSince(ctx, block, latest.attempt, latest.config, earlier, signal);
    if (changes.length > 0) found.set(block.uuid, { changes, rerun: mayRerun(ctx, block.uuid) });
  }
  return found;
}

/** The lines of what changed since `attempt`'s record (none when nothing did, or when it cannot be told). */
async function changesSince(
  ctx: DagContext,
  block: BlockDefinition,
  attempt: number,
  record: ConfigRecord,
  earlier: ReadonlyMap<string, readonly EarlierAttempt[]>,
  signal: AbortSignal,
): Promise<string[]> {
  const { outputs, unknown } = earlierUpstreamOutputs(block, earlier);
  try {
    const now = await ctx.prepare(block, attempt, signal, outputs);
    const drift = configDrift(record, now.job, now.resolved.provenance);
    if (!drift?.changed) return [];
    if (unknown.length > 0) {
      // Does the pod template depend on the outputs not known? Then the comparison cannot tell.
      const probe = { ...outputs, ...Object.fromEntries(unknown.map((u) => [u, { unknown: u }])) };
      const probed = await ctx.prepare(block, attempt, signal, probe);
      if (recordedConfig(probed.job)?.hash !== recordedConfig(now.job)?.hash) return [];
    }
    return describeConfigDrift(drift);
  } catch (error) {
    // A template that needs an upstream output the earlier run's pods no longer give: cannot tell.
    // (An invalid config stopped the run before this, when every block was resolved for attempt 1.)
    if (error instanceof ConfigError) return [];
    throw error;
  }
}

/**
 * The `upstream_outputs` the block's earlier attempt was given, as far as the earlier run tells them
 * (each upstream's latest attempt, succeeded, read from its pod), and the upstream blocks whose output
 * is not known.
 */
function earlierUpstreamOutputs(
  block: BlockDefinition,
  earlier: ReadonlyMap<string, readonly EarlierAttempt[]>,
): { outputs: Record<string, unknown>; unknown: string[] } {
  const outputs: Record<string, unknown> = {};
  const unknown: string[] = [];
  for (const uuid of block.upstream) {
    const latest = earlier.get(uuid)?.at(-1);
    if (latest?.state !== 'succeeded' || !latest.terminationKnown) unknown.push(uuid);
    else if (Object.hasOwn(latest.termination, 'output')) outputs[uuid] = latest.termination.output;
  }
  return { outputs, unknown };
}

/** Whether `rerunChanged` lets the run run block `uuid` again for a change of its config. */
function mayRerun(ctx: DagContext, uuid: string): boolean {
  const rerun = ctx.request.rerunChanged;
  return rerun === true || (rerun !== false && rerun?.includes(uuid) === true);
}
