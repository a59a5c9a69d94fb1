import type { ConfigIssue } from '../errors/config-error.js';
import type { ConfigSnapshot, RawDocument } from '../ports/config-source.js';
import type { ServerPod } from '../ports/pod-introspector.js';
import type { JsonObject } from '../types/kube.js';
import { withPodIdentityEnv } from './identity-env.js';
import { blockOf, policyOf, type RawSource, rawBlock, sectionOf, templateOf } from './layer-sources.js';
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
import { type ConfigOverrides, overrideLayer, overrideList, withOverridePathHint } from './overrides.js';
import { checkPodFailurePolicy, DISRUPTION_POLICY, withDisruptionPolicy } from './pod-failure-policy.js';
import { checkProjectDocument } from './project.js';
import { reconcileInheritedVolumes, serverPodLayer } from './server-pod.js';
import { brokenFiles } from './snapshot-files.js';
import { withTmpdir } from './tmpdir.js';
import type { FieldOrigin, LayerName } from './types.js';
import type { ConfigWarning } from './warnings.js';

/**
 * The built-in defaults: the lowest layer. Besides Mage's defaults: the termination message taken from the
 * log's end when the container writes none (as Metaflow sets it), and the podFailurePolicy that keeps
 * disruptions from spending `backoffLimit` (pod-failure-policy.ts). The pod identity env is built in too,
 * added after the merge (identity-env.ts).
 */
export const BUILT_IN_DEFAULTS: Readonly<JsonObject> = Object.freeze({
  namespace: 'default',
  jobNamePrefix: 'data-prep',
  container: {
    name: 'mage-job-container',
    imagePullPolicy: 'IfNotPresent',
    terminationMessagePolicy: 'FallbackToLogsOnError',
  },
  pod: { restartPolicy: 'Never', serviceAccountName: 'default' },
  job: { backoffLimit: 0, podFailurePolicy: DISRUPTION_POLICY },
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
  /** The run's overrides (`--set`): the `override` layer, above the block, below an enforced policy. */
  overrides?: ConfigOverrides | undefined;
  /** The block's own overrides (`--set-block`): a second `override` layer, above {@link overrides}. */
  blockOverrides?: ConfigOverrides | undefined;
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
 * pipeline < block < override < [policy when `enforce: true`]. Then `!remove` markers are applied,
 * inherited volumes and mounts made to agree, `TMPDIR` pointed at a tmpfs, the built-in podFailurePolicy
 * dropped where it must not apply (its rules checked otherwise) and the pod identity env added.
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
  const user = (
    name: LayerName,
    raw: RawSource | undefined,
    mapIssue: (issue: ConfigIssue) => ConfigIssue = (issue) => issue,
  ): Tree<FieldOrigin> | undefined => {
    if (!raw) return undefined;
    const normalized = normalizedOf(raw);
    issues.push(...normalized.issues.map(mapIssue));
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
  // The run's overrides, then the block's own: two layers, so that they merge as layers do.
  const overrides = [selection.overrides, selection.blockOverrides].map((group) => {
    const layer = overrideLayer(overrideList(group));
    issues.push(...layer.issues);
    const raw = layer.document && { value: layer.document.value, path: [], document: layer.document };
    return user('override', raw, withOverridePathHint);
  });
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
    ['override', overrides[0]],
    ['override', overrides[1]],
    ...(policy?.enforce ? [['policy', policyLayer] as [LayerName, Tree<FieldOrigin> | undefined]] : []),
  ];
  const present = named.filter((entry): entry is [LayerName, Tree<FieldOrigin>] => entry[1] !== undefined);
  const ranks = new Map(present.map(([name], i) => [name, i] as const));
  const userLayers = present.map(([, layer]) => layer);

  const layers = [
    builtInLayer(),
    envDefaultsLayer(snapshot.env),
    serverLayer(selection.serverPod, userLayers),
    ...userLayers,
  ];
  // Sequentially, lowest first: a `!remove` only removes what lies below it.
  const merged = mergeAll(layers);
  const tree = withPodIdentityEnv(
    withDisruptionPolicy(withTmpdir(reconcileInheritedVolumes(stripRemovals(merged)))),
  );
  if (!incomplete) issues.push(...checkPodFailurePolicy(tree.value, tree.origins));
  return { tree, issues, warnings, incomplete, ranks };
}

/**
 * Whether the block of `selection` adds nothing to the merge: it is in the pipeline, with no
 * `executor_config` and no misspelled one. Such a block merges exactly as any other of its kind (nothing
 * of {@link mergeLayers} reads its uuid then), so the blocks of a pipeline that only set config above the
 * block share one merge.
 */
export function addsNoBlockLayer(selection: LayerSelection): boolean {
  if (selection.mode !== 'block' || !selection.snapshot.pipeline) return false;
  const raw = rawBlock(selection.snapshot, selection.blockUuid);
  if (!isPlainObject(raw)) return false;
  let adds = noBlockLayer.get(raw);
  if (adds === undefined) {
    adds = raw.executor_config == null && !hasMisspelled(raw, 'executor_config');
    noBlockLayer.set(raw, adds);
  }
  return adds;
}

/** {@link addsNoBlockLayer} by block entry (a parsed document never changes): asked on every resolve. */
const noBlockLayer = new WeakMap<object, boolean>();

const EMPTY: Tree<FieldOrigin> = { value: {}, origins: new Map() };

/**
 * The server pod's layer, unless the config switches inheritance off; what the config sets itself is left
 * out of it. The user layers are merged for that only when there is a server pod (the cold path's cost).
 */
function serverLayer(serverPod: ServerPod | undefined, userLayers: Tree<FieldOrigin>[]): Tree<FieldOrigin> {
  if (!serverPod) return EMPTY;
  const above = mergeAll(userLayers);
  if (above.value.inheritServerPod === false) return EMPTY;
  const setAbove = (field: string) => isPlainObject(above.value.pod) && above.value.pod[field] !== undefined;
  return serverPodLayer(serverPod, setAbove);
}

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
