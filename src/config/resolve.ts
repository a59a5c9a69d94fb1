import { ConfigError, type ConfigIssue } from '../errors/config-error.js';
import type { ConfigSnapshot } from '../ports/config-source.js';
import type { ServerPod } from '../ports/pod-introspector.js';
import type { RunIdentity } from '../types/run.js';
import { identityIssues } from './identity-check.js';
import { addsNoBlockLayer, type LayerSelection } from './layers.js';
import { BoundedCache, inputsKey } from './memo.js';
import type { ConfigOverrides } from './overrides.js';
import { computeStage, finishRun, type ResolveStage, RUNS_PER_STAGE, runInputsOf } from './resolve-stage.js';
import type { ResolvedConfig } from './types.js';
import type { ConfigWarning } from './warnings.js';

/**
 * What to resolve. The snapshot and the server pod are immutable values: the results are cached by them
 * (see memo.ts), so a change is seen when a part of them is replaced, not when one is edited in place.
 */
export interface ResolveInput {
  /** The raw layers, as read by a {@link ConfigSource}. */
  snapshot: ConfigSnapshot;
  /** `block`: one block's Job; `pipeline`: the whole pipeline as one Job (no block layer). */
  mode: 'block' | 'pipeline';
  /** The block, required in block mode. @default identity.blockUuid */
  blockUuid?: string;
  /** The run, for the run variables of templates. */
  identity: RunIdentity;
  /** The caller's run variables (Mage's global and runtime variables). */
  variables?: Readonly<Record<string, unknown>>;
  /** The pod this process runs in, for inheritance. */
  serverPod?: ServerPod;
  /** Runtime overrides (`--set`): a layer above the block, below an enforced policy. */
  overrides?: ConfigOverrides;
  /** The block's own runtime overrides (`--set-block`): a layer above {@link ResolveInput.overrides}. */
  blockOverrides?: ConfigOverrides;
}

/**
 * Resolves the executor config of one run: normalizes every layer, merges them in priority order,
 * renders the templated fields, applies a command preset, and validates the result.
 *
 * @throws ConfigError (`CONFIG_INVALID`) with every issue found, the snapshot's own issues included.
 * @example
 * const { config, provenance } = resolveConfig({ snapshot, mode: 'block', blockUuid: 'load', identity });
 * provenance['container.resources.limits.cpu']; // { layer: 'block', sourcePath: 'blocks[0].executor_config.cpu', ... }
 */
export function resolveConfig(input: ResolveInput): ResolvedConfig {
  const report = cachedReport(input);
  if (!report.resolved) throw new ConfigError([...report.issues]);
  return report.resolved;
}

/** What {@link resolveWithReport} found: the resolved config when there is no issue. */
export interface ResolveReport {
  resolved?: ResolvedConfig;
  /** Every issue, sorted by file and line. */
  issues: ConfigIssue[];
  /** Valid but suspicious settings. */
  warnings: ConfigWarning[];
}

/** {@link resolveConfig} without the throw: the issues and the warnings, for validation. */
export function resolveWithReport(input: ResolveInput): ResolveReport {
  const { resolved, issues, warnings } = cachedReport(input);
  // The cached report's lists stay the cache's: the caller gets its own.
  return { ...(resolved ? { resolved } : {}), issues: [...issues], warnings: [...warnings] };
}

/**
 * The caches. Rule for every input (see memo.ts): each cache is keyed on the exact object its function
 * computes from, every field of it, so an input added to {@link ResolveInput} (or to the merge's
 * {@link LayerSelection}) is part of a key without anyone listing it:
 *
 * - stages: by the merge's inputs, which are the whole {@link ResolveInput} except the run's own
 *   (`identity`, `variables`), anchored on the snapshot so they go when it goes; the one exception is the
 *   block uuid of a block that adds no layer, which the merge does not read (`addsNoBlockLayer`);
 * - finished runs: in their stage, by the `RunInputs` that stage 2 reads (rendered templates, the
 *   preset's command), which is all that the run's own inputs can change.
 */
const stages = new WeakMap<ConfigSnapshot, BoundedCache<string, ResolveStage>>();

/**
 * The stages a snapshot keeps (one per block, mode, server pod...), per generation: at most 512 in all.
 * A bound, so that a pipeline of many more blocks costs a bounded amount of memory (and its blocks are
 * merged again when they come back, as they were before the cache).
 */
const STAGES_PER_SNAPSHOT = 256;

/**
 * The finished runs a shared stage keeps per generation: it serves many blocks, each of whose runs that
 * render alike would hit its own stage's cache otherwise (a pipeline of up to 256 such blocks still hits).
 */
const SHARED_STAGE_RUNS = 256;

function cachedReport(input: ResolveInput): ResolveReport {
  const { identity, variables: _variables, ...merge } = input;
  const selection: LayerSelection = { ...merge, blockUuid: input.blockUuid ?? identity.blockUuid };
  let cache = stages.get(input.snapshot);
  if (!cache) {
    cache = new BoundedCache(STAGES_PER_SNAPSHOT);
    stages.set(input.snapshot, cache);
  }
  // A block that adds no layer of its own merges as every other such block: they share one stage, which
  // keeps as many finished runs as the stages of that many blocks would.
  const shared = addsNoBlockLayer(selection);
  // No selection has `sharedBlockLayer`, and the shared key has no block uuid: it equals no block's key.
  const stageKey = shared ? { ...selection, blockUuid: undefined, sharedBlockLayer: true } : selection;
  const stage = cache.getOrCompute(inputsKey(stageKey), () =>
    computeStage(selection, shared ? SHARED_STAGE_RUNS : RUNS_PER_STAGE),
  );
  const run = runInputsOf(stage, input);
  const report = stage.runs.getOrCompute(JSON.stringify(run), () => finishRun(stage, run));
  const refused = identityIssues(identity, input.mode);
  return refused.length === 0
    ? report
    : { issues: [...refused, ...report.issues], warnings: report.warnings };
}
