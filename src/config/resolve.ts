import { ConfigError, type ConfigIssue } from '../errors/config-error.js';
import type { ConfigSnapshot } from '../ports/config-source.js';
import type { ServerPod } from '../ports/pod-introspector.js';
import type { JsonObject } from '../types/kube.js';
import type { RunIdentity } from '../types/run.js';
import { sortIssues } from './issues.js';
import { mergeLayers } from './layers.js';
import { defaultRepoPath, mageCommand } from './mage-command.js';
import { dropOrigins, isPlainObject, type Tree } from './merge.js';
import type { ConfigOverrides } from './overrides.js';
import { joinIndex, joinKey } from './paths.js';
import { buildProvenance, issueAt } from './provenance.js';
import { checkPrefixPlaceholders, renderTemplate, type TemplateScope } from './template.js';
import type { FieldOrigin, LayerName, ResolvedConfig } from './types.js';
import { validateConfig } from './validate.js';
import type { ConfigWarning } from './warnings.js';

/** What to resolve. */
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
  /** The block's own runtime overrides (`--set-block`): a layer above {@link overrides}. */
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
  const report = resolveWithReport(input);
  if (!report.resolved) throw new ConfigError(report.issues);
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
  const { snapshot, mode, identity } = input;
  const merged = mergeLayers({
    snapshot,
    mode,
    blockUuid: input.blockUuid ?? identity.blockUuid,
    serverPod: input.serverPod,
    overrides: input.overrides,
    blockOverrides: input.blockOverrides,
  });
  const scope: TemplateScope = { env: snapshot.env, variables: runVariables(identity, input.variables) };
  const templated = renderTemplates(merged.tree, scope);
  const commanded = applyCommandPreset(templated.value, merged.tree.origins, merged.ranks, input);
  // A field whose template failed still holds the template text: don't also report that text as invalid.
  const untemplated = new Set(templated.issues.map((i) => i.path));
  // Checks of the merged result mean nothing when a file that holds a layer could not be read.
  const invalid = merged.incomplete
    ? []
    : validateConfig(commanded.value, commanded.origins).filter((i) => !untemplated.has(i.path));
  const issues = sortIssues([
    ...snapshot.issues,
    ...merged.issues,
    ...templated.issues,
    ...commanded.issues,
    ...invalid,
  ]);
  const warnings = merged.warnings;
  if (issues.length > 0) return { issues, warnings };
  // Validation guarantees namespace, prefix, container name and image: the shape ResolvedConfig promises.
  const config = commanded.value as unknown as ResolvedConfig['config'];
  const provenance = buildProvenance(config, commanded.origins);
  const resolved = deepFreeze({ config, provenance, ...(warnings.length > 0 ? { warnings } : {}) });
  return { resolved, issues, warnings };
}

/**
 * `command: mage`: the container's command becomes Mage's `mage run ...` for this run, unless a higher
 * layer sets `container.command` itself; `container.args` of the preset's layer and below are dropped (the
 * preset is the whole command). The preset's own keys are consumed here.
 */
function applyCommandPreset(
  config: JsonObject,
  origins: ReadonlyMap<string, FieldOrigin>,
  ranks: ReadonlyMap<LayerName, number>,
  input: ResolveInput,
): { value: JsonObject; origins: ReadonlyMap<string, FieldOrigin>; issues: ConfigIssue[] } {
  const { commandPreset, mageRepoPath, ...rest } = config;
  if (commandPreset === undefined) return { value: config, origins, issues: [] };
  const out = new Map(origins);
  dropOrigins(out, 'commandPreset');
  dropOrigins(out, 'mageRepoPath');
  const rank = (path: string) => {
    const layer = origins.get(path)?.layer;
    return layer === undefined ? -1 : (ranks.get(layer) ?? -1);
  };
  const container = isPlainObject(rest.container) ? { ...rest.container } : {};
  const presetRank = rank('commandPreset');
  if (container.command !== undefined && rank('container.command') >= presetRank) {
    if (rank('container.command') > presetRank) return { value: rest, origins: out, issues: [] };
    const preset = origins.get('commandPreset');
    return {
      value: rest,
      origins: out,
      issues: [
        {
          code: 'CONFLICTING_KEYS',
          path: preset?.sourcePath ?? 'command',
          message: `\`command: ${String(commandPreset)}\` and \`${origins.get('container.command')?.sourcePath ?? 'container.command'}\` are set in the same config: keep one of the two.`,
          ...(preset?.location ? { location: preset.location } : {}),
        },
      ],
    };
  }
  const { identity } = input;
  container.command = mageCommand({
    kind: input.mode,
    repoPath:
      typeof mageRepoPath === 'string'
        ? mageRepoPath
        : defaultRepoPath(input.snapshot.projectDir, input.snapshot.env),
    pipelineUuid: identity.pipelineUuid,
    pipelineRunId: identity.pipelineRunId,
    blockUuid: input.blockUuid ?? identity.blockUuid,
    blockRunId: identity.blockRunId,
    variables: input.variables,
  });
  dropOrigins(out, 'container.command');
  const presetOrigin = origins.get('commandPreset');
  if (presetOrigin) out.set('container.command', presetOrigin);
  if (container.args !== undefined && rank('container.args') <= presetRank) {
    delete container.args;
    dropOrigins(out, 'container.args');
  }
  return { value: { ...rest, container }, origins: out, issues: [] };
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
  const fromIdentity: Record<string, unknown> = {
    pipeline_uuid: identity.pipelineUuid,
    block_uuid: identity.blockUuid,
    pipeline_run_id: identity.pipelineRunId,
    block_run_id: identity.blockRunId,
    trigger_name: identity.triggerName,
    attempt: identity.attempt ?? 1,
  };
  const defined = Object.entries(fromIdentity).filter(([, value]) => value !== undefined);
  return { ...variables, ...Object.fromEntries(defined) };
}

/** Renders the templated fields: namespace, prefix, image, label/annotation values, command and args. */
function renderTemplates(
  tree: Tree<FieldOrigin>,
  scope: TemplateScope,
): { value: JsonObject; issues: ConfigIssue[] } {
  const issues: ConfigIssue[] = [];
  const render = (path: string, value: unknown): unknown => {
    if (typeof value !== 'string') return value;
    const result = renderTemplate(value, scope);
    if (result.ok) return result.value;
    issues.push(issueAt(tree.origins, path, result.code, result.message));
    return value;
  };
  const value = structuredClone(tree.value);
  for (const key of ['namespace', 'jobNamePrefix'] as const)
    if (key in value) value[key] = render(key, value[key]);
  const failed = issues.length;
  if (typeof value.jobNamePrefix === 'string' && failed === 0) {
    // Single braces are for job naming: only {trigger_name} is known there.
    const placeholders = checkPrefixPlaceholders(value.jobNamePrefix);
    if (!placeholders.ok)
      issues.push(issueAt(tree.origins, 'jobNamePrefix', placeholders.code, placeholders.message));
  }
  const container = value.container;
  if (isPlainObject(container)) {
    if ('image' in container) container.image = render('container.image', container.image);
    for (const list of ['command', 'args'] as const) {
      const items = container[list];
      if (Array.isArray(items))
        container[list] = items.map((item, i) => render(joinIndex(`container.${list}`, i), item));
    }
  }
  const metadata = value.metadata;
  if (isPlainObject(metadata)) {
    for (const map of ['labels', 'annotations'] as const) {
      const entries = metadata[map];
      if (!isPlainObject(entries)) continue;
      for (const [key, text] of Object.entries(entries))
        entries[key] = render(joinKey(`metadata.${map}`, key), text);
    }
  }
  return { value, issues };
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
