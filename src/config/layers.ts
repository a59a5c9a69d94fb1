import type { ConfigIssue } from '../errors/config-error.js';
import type { ConfigSnapshot, DocumentPath, RawDocument } from '../ports/config-source.js';
import type { ServerPod } from '../ports/pod-introspector.js';
import type { JsonObject } from '../types/kube.js';
import { hasMisspelled } from './mage-keys.js';
import {
  isPlainObject,
  mergeAll,
  mergeTrees,
  nest,
  recordOrigins,
  stripRemovals,
  type Tree,
} from './merge.js';
import { type NormalizedLayer, normalizeLayer } from './normalize.js';
import { checkProjectDocument } from './project.js';
import { asBoolean } from './scalars.js';
import { describeValue } from './schema-walk.js';
import { reconcileInheritedVolumes, serverPodLayer } from './server-pod.js';
import { brokenFiles } from './snapshot-files.js';
import type { FieldOrigin, LayerName } from './types.js';
import type { ConfigWarning } from './warnings.js';

/** The built-in defaults: the lowest layer. */
export const BUILT_IN_DEFAULTS: Readonly<JsonObject> = Object.freeze({
  namespace: 'default',
  jobNamePrefix: 'data-prep',
  container: { name: 'mage-job-container', imagePullPolicy: 'IfNotPresent' },
  pod: { restartPolicy: 'Never', serviceAccountName: 'default' },
  job: { backoffLimit: 0 },
});

/** Environment variables of the env-defaults layer and the canonical field each one sets. */
export const ENV_DEFAULTS: Readonly<Record<string, readonly string[]>> = {
  KUBE_NAMESPACE: ['namespace'],
  K8S_EXECUTOR_DEFAULT_RESOURCE_REQUESTS_CPU: ['container', 'resources', 'requests', 'cpu'],
  K8S_EXECUTOR_DEFAULT_RESOURCE_REQUESTS_MEMORY: ['container', 'resources', 'requests', 'memory'],
  K8S_EXECUTOR_DEFAULT_RESOURCE_LIMITS_CPU: ['container', 'resources', 'limits', 'cpu'],
  K8S_EXECUTOR_DEFAULT_RESOURCE_LIMITS_MEMORY: ['container', 'resources', 'limits', 'memory'],
  K8S_EXECUTOR_DEFAULT_SERVICE_ACCOUNT_NAME: ['pod', 'serviceAccountName'],
};

/** What to merge: which layers exist depends on the mode and the block. */
export interface LayerSelection {
  snapshot: ConfigSnapshot;
  mode: 'block' | 'pipeline';
  blockUuid?: string | undefined;
  serverPod?: ServerPod | undefined;
}

/** The merged config of every layer, with the origin of each node, and the problems found on the way. */
export interface MergedLayers {
  /** The merged config, markers applied (no `!remove` or `!replace` left). */
  tree: Tree<FieldOrigin>;
  issues: ConfigIssue[];
  warnings: ConfigWarning[];
  /**
   * A file that holds a layer failed to parse, so its layer was left out: checks of the merged result
   * (a missing image, a mount without its volume, ...) would be about a config nobody wrote.
   */
  incomplete: boolean;
  /** For each user layer that is present, its rank (lowest first), to compare where two fields came from. */
  ranks: ReadonlyMap<LayerName, number>;
}

/**
 * Normalizes every layer and merges them in priority order (lowest first):
 * built-in < env defaults < server pod < [policy when `enforce: false`] < K8S_CONFIG_FILE < project <
 * pipeline < block < [policy when `enforce: true`]. Then `!remove` markers are applied and inherited
 * volumes and mounts made to agree.
 */
export function mergeLayers(selection: LayerSelection): MergedLayers {
  const issues: ConfigIssue[] = [];
  const warnings: ConfigWarning[] = [];
  const { snapshot } = selection;
  const broken = brokenFiles(snapshot);
  let incomplete = false;
  const project = checkProjectDocument(snapshot);
  issues.push(...project.issues);
  warnings.push(...project.warnings);
  // A misspelled section key (`k8s_executor_conifg`) is reported where it is; the layer it would have
  // held is missing, so checks of the merged result would only echo that one mistake.
  if (
    hasMisspelled(snapshot.project?.value, 'k8s_executor_config') ||
    hasMisspelled(snapshot.pipeline?.value, 'executor_config') ||
    (selection.mode === 'block' && hasMisspelled(rawBlock(snapshot, selection.blockUuid), 'executor_config'))
  )
    incomplete = true;
  const user = (name: LayerName, raw: RawSource | undefined): Tree<FieldOrigin> | undefined => {
    if (!raw) return undefined;
    const normalized = normalizedOf(raw);
    issues.push(...normalized.issues);
    warnings.push(...normalized.warnings);
    const origins = new Map<string, FieldOrigin>();
    for (const [key, o] of normalized.origins) origins.set(key, { layer: name, ...o });
    return { value: normalized.config as JsonObject, origins };
  };
  // A file that failed to parse holds no layer: its parse errors are its problems.
  const readable = (document: RawDocument | undefined): RawDocument | undefined => {
    if (!document || !broken.has(document.file)) return document;
    incomplete = true;
    return undefined;
  };
  const policy = policyOf(readable(snapshot.policy), issues);
  const policyLayer = user('policy', policy?.raw);
  const pipeline = readable(snapshot.pipeline);
  const named: [LayerName, Tree<FieldOrigin> | undefined][] = [
    ...(policy && !policy.enforce
      ? [['policy', policyLayer] as [LayerName, Tree<FieldOrigin> | undefined]]
      : []),
    ['template', user('template', templateOf(readable(snapshot.template), issues))],
    ['project', user('project', sectionOf(readable(snapshot.project), 'k8s_executor_config'))],
    ['pipeline', user('pipeline', sectionOf(pipeline, 'executor_config'))],
    [
      'block',
      selection.mode === 'block' && (pipeline || !snapshot.pipeline)
        ? user('block', blockOf(snapshot, selection.blockUuid, issues))
        : undefined,
    ],
    ...(policy?.enforce ? [['policy', policyLayer] as [LayerName, Tree<FieldOrigin> | undefined]] : []),
  ];
  const present = named.filter((entry): entry is [LayerName, Tree<FieldOrigin>] => entry[1] !== undefined);
  const ranks = new Map(present.map(([name], i) => [name, i] as const));
  const userLayers = present.map(([, layer]) => layer);

  const above = mergeAll(userLayers);
  const inherit = above.value.inheritServerPod !== false;
  const setAbove = (field: string) => isPlainObject(above.value.pod) && above.value.pod[field] !== undefined;
  const layers = [
    builtInLayer(),
    envDefaultsLayer(snapshot.env),
    selection.serverPod && inherit ? serverPodLayer(selection.serverPod, setAbove) : EMPTY,
    ...userLayers,
  ];
  // Sequentially, lowest first: a `!remove` only removes what lies below it.
  const merged = mergeAll(layers);
  const tree = reconcileInheritedVolumes(stripRemovals(merged));
  return { tree, issues, warnings, incomplete, ranks };
}

const EMPTY: Tree<FieldOrigin> = { value: {}, origins: new Map() };

/**
 * Normalized layers by document and place: a document is parsed once and never changes, and the blocks of
 * one pipeline share its project, template, policy and pipeline layers. (Normalizing is pure, so the cache
 * only saves time; it goes with the document.)
 */
const normalizedLayers = new WeakMap<RawDocument, Map<string, { value: unknown; layer: NormalizedLayer }>>();

function normalizedOf(raw: RawSource): NormalizedLayer {
  const key = JSON.stringify(raw.path);
  let byPath = normalizedLayers.get(raw.document);
  if (!byPath) {
    byPath = new Map();
    normalizedLayers.set(raw.document, byPath);
  }
  const cached = byPath.get(key);
  if (cached && cached.value === raw.value) return cached.layer;
  const layer = normalizeLayer(raw);
  byPath.set(key, { value: raw.value, layer });
  return layer;
}

type RawSource = { value: unknown; path: DocumentPath; document: RawDocument };

function builtInLayer(): Tree<FieldOrigin> {
  const origins = new Map<string, FieldOrigin>();
  for (const [key, value] of Object.entries(BUILT_IN_DEFAULTS))
    recordOrigins(key, value, { layer: 'built-in' }, origins);
  return { value: structuredClone(BUILT_IN_DEFAULTS) as JsonObject, origins };
}

function envDefaultsLayer(env: Readonly<Record<string, string | undefined>>): Tree<FieldOrigin> {
  let tree = EMPTY;
  for (const [name, segments] of Object.entries(ENV_DEFAULTS)) {
    const text = env[name]?.trim();
    if (!text) continue;
    const origins = new Map<string, FieldOrigin>();
    recordOrigins(segments.join('.'), text, { layer: 'env-defaults', sourcePath: `$${name}` }, origins);
    tree = mergeTrees(tree, { value: nest(segments, text), origins }, 'override');
  }
  return tree;
}

/** The map under `key` of a document (`k8s_executor_config`, `executor_config`). */
function sectionOf(document: RawDocument | undefined, key: string): RawSource | undefined {
  if (!document || !isPlainObject(document.value) || document.value[key] == null) return undefined;
  return { value: document.value[key], path: [key], document };
}

/** `K8S_CONFIG_FILE`: a layer at the top level, or inside Mage's `k8s_executor_config:` wrapper. */
function templateOf(document: RawDocument | undefined, issues: ConfigIssue[]): RawSource | undefined {
  if (!document || document.value == null) return undefined;
  const wrapper = isPlainObject(document.value)
    ? Object.keys(document.value).find((k) => k === 'k8s_executor_config' || k === 'k8sExecutorConfig')
    : undefined;
  if (wrapper !== undefined && (document.value as JsonObject)[wrapper] == null) return undefined;
  if (wrapper === undefined) return { value: document.value, path: [], document };
  for (const key of Object.keys(document.value as JsonObject)) {
    if (key === wrapper) continue;
    const location = document.locate([key]);
    issues.push({
      code: 'UNKNOWN_KEY',
      path: key,
      message: `"${key}" is outside ${wrapper}: this file uses the ${wrapper} wrapper, so move "${key}" inside it.`,
      ...(location ? { location } : {}),
    });
  }
  return { value: (document.value as JsonObject)[wrapper], path: [wrapper], document };
}

/** The policy file: `enabled` (default true) and `enforce` (default false) beside the layer keys. */
function policyOf(
  document: RawDocument | undefined,
  issues: ConfigIssue[],
): { raw: RawSource; enforce: boolean } | undefined {
  if (!document || document.value == null) return undefined;
  if (!isPlainObject(document.value)) {
    const location = document.locate([]);
    issues.push({
      code: 'INVALID_TYPE',
      path: '',
      message: `expected a map with enabled, enforce and executor settings, got ${describeValue(document.value)}.`,
      ...(location ? { location } : {}),
    });
    return undefined;
  }
  const { enabled: rawEnabled, enforce: rawEnforce, ...rest } = document.value;
  // Empty means not set; PyYAML's yes/no/on/off are booleans here.
  const enabled = rawEnabled ?? true;
  const enforce = rawEnforce ?? false;
  for (const [key, flag] of [
    ['enabled', enabled],
    ['enforce', enforce],
  ] as const) {
    if (asBoolean(flag) !== undefined) continue;
    const location = document.locate([key]);
    issues.push({
      code: 'INVALID_TYPE',
      path: key,
      message: `expected true or false, got ${describeValue(flag)}.`,
      ...(location ? { location } : {}),
    });
    return undefined;
  }
  return asBoolean(enabled)
    ? { raw: { value: rest, path: [], document }, enforce: asBoolean(enforce) === true }
    : undefined;
}

/** The raw entry of block `uuid` in the pipeline's `blocks` list. */
function rawBlock(snapshot: ConfigSnapshot, uuid: string | undefined): unknown {
  const document = snapshot.pipeline;
  const blocks = document && isPlainObject(document.value) ? document.value.blocks : undefined;
  return Array.isArray(blocks) ? blocks.find((b) => isPlainObject(b) && b.uuid === uuid) : undefined;
}

/** The block's `executor_config` in the pipeline's `blocks` list. */
function blockOf(
  snapshot: ConfigSnapshot,
  blockUuid: string | undefined,
  issues: ConfigIssue[],
): RawSource | undefined {
  const document = snapshot.pipeline;
  const blocks = document && isPlainObject(document.value) ? document.value.blocks : undefined;
  const list = Array.isArray(blocks) ? blocks : [];
  const index = list.findIndex((b) => isPlainObject(b) && b.uuid === blockUuid);
  if (!document || index < 0) {
    if (!document && snapshot.issues.some((i) => i.code === 'UNKNOWN_PIPELINE')) return undefined;
    const known = list.flatMap((b) => (isPlainObject(b) && typeof b.uuid === 'string' ? [b.uuid] : []));
    issues.push({
      code: 'UNKNOWN_BLOCK',
      path: blockUuid === undefined ? '' : 'blocks',
      message:
        blockUuid === undefined
          ? 'a block run needs the block uuid: pass blockUuid (or identity.blockUuid).'
          : !document
            ? `block "${blockUuid}" cannot be found: no pipeline was loaded (load the snapshot with the pipeline uuid).`
            : `no block "${blockUuid}" in the pipeline: the blocks are ${known.map((k) => `"${k}"`).join(', ') || 'none'}.`,
      ...(document ? { location: { file: document.file } } : {}),
    });
    return undefined;
  }
  const block = list[index] as JsonObject;
  const path = ['blocks', index, 'executor_config'];
  return block.executor_config == null ? undefined : { value: block.executor_config, path, document };
}
