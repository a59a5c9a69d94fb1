import { ConfigError, type ConfigIssue } from '../errors/config-error.js';
import type { ConfigSnapshot } from '../ports/config-source.js';
import type { ServerPod } from '../ports/pod-introspector.js';
import type { JsonObject } from '../types/kube.js';
import type { RunIdentity } from '../types/run.js';
import { sortIssues } from './issues.js';
import { mergeLayers } from './layers.js';
import { isPlainObject, stripNulls, type Tree } from './merge.js';
import { joinIndex, joinKey } from './paths.js';
import { buildProvenance, issueAt } from './provenance.js';
import { renderTemplate, type TemplateScope } from './template.js';
import type { FieldOrigin, ResolvedConfig } from './types.js';
import { validateConfig } from './validate.js';

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
}

/**
 * Resolves the executor config of one run: normalizes every layer, merges them in priority order,
 * renders the templated fields, and validates the result.
 *
 * @throws ConfigError (`CONFIG_INVALID`) with every issue found, the snapshot's own issues included.
 * @example
 * const { config, provenance } = resolveConfig({ snapshot, mode: 'block', blockUuid: 'load', identity });
 * provenance['container.resources.limits.cpu']; // { layer: 'block', sourcePath: 'blocks[0].executor_config.cpu', ... }
 */
export function resolveConfig(input: ResolveInput): ResolvedConfig {
  const { snapshot, mode, identity } = input;
  const merged = mergeLayers({
    snapshot,
    mode,
    blockUuid: input.blockUuid ?? identity.blockUuid,
    serverPod: input.serverPod,
  });
  const stripped = stripNulls(merged.tree);
  const scope: TemplateScope = { env: snapshot.env, variables: runVariables(identity, input.variables) };
  const templated = renderTemplates(stripped, scope);
  // A field whose template failed still holds the template text: don't also report that text as invalid.
  const untemplated = new Set(templated.issues.map((i) => i.path));
  const invalid = validateConfig(templated.value, stripped.origins).filter((i) => !untemplated.has(i.path));
  const issues = [...snapshot.issues, ...merged.issues, ...templated.issues, ...invalid];
  if (issues.length > 0) throw new ConfigError(sortIssues(issues));
  // Validation guarantees namespace, prefix, container name and image: the shape ResolvedConfig promises.
  const config = templated.value as unknown as ResolvedConfig['config'];
  return deepFreeze({ config, provenance: buildProvenance(config, stripped.origins) });
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
