import type { ConfigIssue } from '../errors/config-error.js';
import type { JsonObject } from '../types/kube.js';
import type { RunIdentity } from '../types/run.js';
import { sortIssues } from './issues.js';
import { type LayerSelection, type MergedLayers, mergeLayers } from './layers.js';
import { defaultRepoPath, mageCommand } from './mage-command.js';
import { BoundedCache } from './memo.js';
import { dropOrigins, isPlainObject } from './merge.js';
import { buildProvenance, issueAt } from './provenance.js';
import type { ResolveInput, ResolveReport } from './resolve.js';
import { checkPrefixPlaceholders, type RenderResult, renderTemplate } from './template.js';
import { type Edit, edited, findSites, type TemplateSites } from './template-sites.js';
import type { FieldOrigin, ResolvedConfig } from './types.js';
import { validateConfig } from './validate.js';

/**
 * Resolving in two stages, so that what does not depend on the run is done once (see resolve.ts):
 *
 * 1. {@link computeStage}, from the merge's inputs alone: the merged layers (frozen), the templated fields
 *    found in them, and what the `command: mage` preset does.
 * 2. {@link finishRun}, from a stage and the run's {@link RunInputs} alone: the rendered templates and the
 *    preset's command are put in, the result is validated and frozen.
 *
 * Each function computes from its parameters only, so each cache is keyed on exactly what its function reads.
 */

/** What a run's config is made of before the run itself: everything that follows from the merge. */
export interface ResolveStage {
  readonly merged: MergedLayers;
  /** The snapshot's own issues (files that could not be read), reported with every run's. */
  readonly snapshotIssues: readonly ConfigIssue[];
  /** The merged config (frozen), without the preset's own keys. */
  readonly base: JsonObject;
  /** The templated fields of {@link base}, in the order their problems are reported. */
  readonly templates: TemplateSites;
  /** What the `command: mage` preset does, when it puts its command in. */
  readonly preset: PresetPlan | undefined;
  /** The problems of the preset itself (the same in every run). */
  readonly presetIssues: readonly ConfigIssue[];
  /** The origins of the final config (the preset's keys dropped, its command's origin added). */
  readonly origins: ReadonlyMap<string, FieldOrigin>;
  /** The finished runs, by their {@link RunInputs}. */
  readonly runs: BoundedCache<string, ResolveReport>;
  /**
   * The provenance (frozen), computed by the first run that resolves: it is the same for every run, as
   * runs only replace strings with strings (templates) and `container.command` with a list (the preset),
   * which changes no row of it, and the origins are the stage's.
   */
  provenance?: Readonly<Record<string, FieldOrigin>>;
}

/** What differs from run to run: every template's result, and the preset's command. */
export interface RunInputs {
  /** One result per templated field of the stage, in order. */
  readonly rendered: readonly RenderResult[];
  /** The `command: mage` preset's command, when it applies. */
  readonly command?: readonly string[];
}

/** The preset puts its command in: where the project is, and whether `container.args` goes. */
interface PresetPlan {
  readonly repoPath: string;
  readonly dropArgs: boolean;
}

/** The finished runs a stage keeps per generation (at most 16 in all): runs that render alike share one. */
export const RUNS_PER_STAGE = 8;

/**
 * Stage 1: everything that follows from the merge's inputs. Pure. `runsPerGeneration`: how many finished
 * runs it keeps per generation (more for a stage that many blocks share).
 */
export function computeStage(selection: LayerSelection, runsPerGeneration = RUNS_PER_STAGE): ResolveStage {
  const merged = mergeLayers(selection);
  const { snapshot } = selection;
  // Runs share the merged config's objects: frozen, nothing can change them through one run's result.
  const config = deepFreeze(merged.tree.value);
  const common = {
    merged,
    snapshotIssues: snapshot.issues,
    runs: new BoundedCache<string, ResolveReport>(runsPerGeneration),
  };
  const { commandPreset, mageRepoPath, ...rest } = config;
  if (commandPreset === undefined) {
    const templates = findSites(config);
    return {
      ...common,
      base: config,
      templates,
      preset: undefined,
      presetIssues: [],
      origins: merged.tree.origins,
    };
  }
  const base = Object.freeze(rest);
  const plan = planPreset(base, String(commandPreset), merged);
  const repoPath =
    typeof mageRepoPath === 'string' ? mageRepoPath : defaultRepoPath(snapshot.projectDir, snapshot.env);
  return {
    ...common,
    base,
    templates: findSites(base),
    preset: plan.dropArgs === undefined ? undefined : { repoPath, dropArgs: plan.dropArgs },
    presetIssues: plan.issues,
    origins: plan.origins,
  };
}

/** The run's inputs to stage 2: the templates rendered with the run's variables, the preset's command. */
export function runInputsOf(stage: ResolveStage, input: ResolveInput): RunInputs {
  const { identity, snapshot } = input;
  const rendered: RenderResult[] = [];
  const { sites } = stage.templates;
  if (sites.length > 0) {
    const scope = { env: snapshot.env, variables: runVariables(identity, input.variables) };
    for (const site of sites) rendered.push(renderTemplate(site.text, scope));
  }
  if (!stage.preset) return { rendered };
  const command = mageCommand({
    kind: input.mode,
    repoPath: stage.preset.repoPath,
    pipelineUuid: identity.pipelineUuid,
    pipelineRunId: identity.pipelineRunId,
    blockUuid: input.blockUuid ?? identity.blockUuid,
    blockRunId: identity.blockRunId,
    variables: input.variables,
  });
  return { rendered, command };
}

/** Stage 2: the run's config, validated. Pure: the same stage and inputs give the same report. */
export function finishRun(stage: ResolveStage, run: RunInputs): ResolveReport {
  const { merged } = stage;
  const { sites, beforePrefixCheck } = stage.templates;
  const templateIssues: ConfigIssue[] = [];
  const edits: Edit[] = [];
  sites.forEach((site, i) => {
    if (i === beforePrefixCheck) checkPrefix(stage, edits, templateIssues);
    const result = run.rendered[i]!;
    if (result.ok) edits.push({ at: site.at, value: result.value });
    else templateIssues.push(issueAt(merged.tree.origins, site.path, result.code, result.message));
  });
  if (sites.length === beforePrefixCheck) checkPrefix(stage, edits, templateIssues);
  let value = edited(stage.base, edits);
  if (stage.preset && run.command) {
    const container: JsonObject = isPlainObject(value.container) ? { ...value.container } : {};
    container.command = [...run.command];
    if (stage.preset.dropArgs) delete container.args;
    value = { ...value, container };
  }
  // A field whose template failed still holds the template text: don't also report that text as invalid.
  const untemplated = new Set(templateIssues.map((i) => i.path));
  // Checks of the merged result mean nothing when a file that holds a layer could not be read.
  const invalid = merged.incomplete
    ? []
    : validateConfig(value, stage.origins).filter((i) => !untemplated.has(i.path));
  const issues = sortIssues([
    ...stage.snapshotIssues,
    ...merged.issues,
    ...templateIssues,
    ...stage.presetIssues,
    ...invalid,
  ]);
  const { warnings } = merged;
  if (issues.length > 0) return { issues, warnings };
  // Validation guarantees namespace, prefix, container name and image: the shape ResolvedConfig promises.
  const config = deepFreeze(value) as unknown as ResolvedConfig['config'];
  stage.provenance ??= deepFreeze(buildProvenance(config, stage.origins));
  const resolved = deepFreeze({
    config,
    provenance: stage.provenance,
    ...(warnings.length > 0 ? { warnings } : {}),
  });
  return { resolved, issues, warnings };
}

/**
 * Single braces in the prefix are for job naming: only {trigger_name} is known there. Checked once the
 * namespace and prefix templates rendered, on the rendered prefix.
 */
function checkPrefix(stage: ResolveStage, edits: readonly Edit[], issues: ConfigIssue[]): void {
  if (issues.length > 0) return;
  const rendered = edits.find((edit) => edit.at.length === 1 && edit.at[0] === 'jobNamePrefix');
  const prefix = rendered ? rendered.value : stage.base.jobNamePrefix;
  if (typeof prefix !== 'string') return;
  const placeholders = checkPrefixPlaceholders(prefix);
  if (!placeholders.ok)
    issues.push(issueAt(stage.merged.tree.origins, 'jobNamePrefix', placeholders.code, placeholders.message));
}

/**
 * `command: mage`: the container's command becomes Mage's `mage run ...` for the run, unless a higher
 * layer sets `container.command` itself; `container.args` of the preset's layer and below are dropped (the
 * preset is the whole command). What it does is the same in every run; only its command is the run's.
 */
function planPreset(
  config: JsonObject,
  preset: string,
  merged: MergedLayers,
): { origins: ReadonlyMap<string, FieldOrigin>; issues: ConfigIssue[]; dropArgs?: boolean } {
  const { origins } = merged.tree;
  const out = new Map(origins);
  dropOrigins(out, 'commandPreset');
  dropOrigins(out, 'mageRepoPath');
  const rank = (path: string) => {
    const layer = origins.get(path)?.layer;
    return layer === undefined ? -1 : (merged.ranks.get(layer) ?? -1);
  };
  const container = isPlainObject(config.container) ? config.container : {};
  const presetRank = rank('commandPreset');
  const presetOrigin = origins.get('commandPreset');
  // A higher layer's `container.command` wins over the preset; the same layer's conflicts with it.
  if (container.command !== undefined && rank('container.command') >= presetRank) {
    if (rank('container.command') > presetRank) return { origins: out, issues: [] };
    const issue: ConfigIssue = {
      code: 'CONFLICTING_KEYS',
      path: presetOrigin?.sourcePath ?? 'command',
      message: `\`command: ${preset}\` and \`${origins.get('container.command')?.sourcePath ?? 'container.command'}\` are set in the same config: keep one of the two.`,
      ...(presetOrigin?.location ? { location: presetOrigin.location } : {}),
    };
    return { origins: out, issues: [issue] };
  }
  dropOrigins(out, 'container.command');
  if (presetOrigin) out.set('container.command', presetOrigin);
  // The preset is the whole command: the args of its layer and below go.
  const dropArgs = container.args !== undefined && rank('container.args') <= presetRank;
  if (dropArgs) dropOrigins(out, 'container.args');
  return { origins: out, issues: [], dropArgs };
}

/**
 * The run variables: the caller's, then the run identity (`pipeline_uuid`, `block_uuid`,
 * `pipeline_run_id`, `block_run_id`, `trigger_name`, `attempt`), which wins over a caller variable of
 * the same name.
 */
function runVariables(
  identity: RunIdentity,
  variables: Readonly<Record<string, unknown>> = {},
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...variables };
  const set = (name: string, value: unknown) => {
    if (value !== undefined) out[name] = value;
  };
  set('pipeline_uuid', identity.pipelineUuid);
  set('block_uuid', identity.blockUuid);
  set('pipeline_run_id', identity.pipelineRunId);
  set('block_run_id', identity.blockRunId);
  set('trigger_name', identity.triggerName);
  set('attempt', identity.attempt ?? 1);
  // Every block run has it, so a template using it resolves in `render`, `validate` and `preflight` too;
  // a DAG run passes the real outputs of the block's upstream blocks.
  if (identity.blockUuid !== undefined && !Object.hasOwn(out, UPSTREAM_OUTPUTS)) out[UPSTREAM_OUTPUTS] = {};
  return out;
}

/**
 * The run variable that gives a block the `output` of each upstream block that has one, by upstream
 * uuid: `{{ variables('upstream_outputs') }}` renders it as JSON, and Mage's command passes it in
 * `--runtime-vars`. A DAG run sets it for every block with upstream blocks (`{}` when none has an
 * output), winning over a caller variable of the same name; any other block run has `{}`.
 */
export const UPSTREAM_OUTPUTS = 'upstream_outputs';

/** Freezes `value` and everything below it that is not frozen yet (frozen parts are already whole). */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
