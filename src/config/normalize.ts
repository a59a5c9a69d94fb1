import type { ConfigIssue } from '../errors/config-error.js';
import type { DocumentPath, RawDocument } from '../ports/config-source.js';
import type { JsonObject } from '../types/kube.js';
import { commandPreset } from './command-preset.js';
import {
  CONTAINER,
  type FieldSchema,
  JOB,
  LEAF,
  METADATA,
  POD,
  SECURITY_CONTEXT,
  TOLERATIONS,
} from './k8s-schema.js';
import { squashKey } from './key-case.js';
import { isRemove, REMOVE } from './markers.js';
import { isPlainObject, mergeTrees, nest, type Tree } from './merge.js';
import { joinKey } from './paths.js';
import {
  conflictReporter,
  describeValue,
  findField,
  notExecutorSettings,
  originAt,
  report,
  type SourceOrigin,
  unknownKeyMessage,
  type WalkContext,
  walk,
  warnIfDedented,
} from './schema-walk.js';
import { fragment, REMOVABLE_SHORTHANDS, SHORTHANDS, tmpfs } from './shorthands.js';
import type { ExecutorConfig } from './types.js';
import type { ConfigWarning } from './warnings.js';

/** One raw layer as read from its document. */
export interface RawLayer {
  /** The layer as parsed (a plain object; `null`/`undefined` is an empty layer). */
  readonly value: unknown;
  /** Where the layer sits in its document, e.g. `['blocks', 2, 'executor_config']`. */
  readonly path: DocumentPath;
  /** The document, for the file and line of each value. */
  readonly document?: RawDocument | undefined;
}

/**
 * A layer in canonical form. Empty values (YAML `null`) are gone: they mean "not set". `!remove` and
 * `!replace` are kept as their markers for the merge (markers.ts).
 */
export interface NormalizedLayer {
  /** The canonical config of this layer (may hold `!remove` / `!replace` markers). */
  readonly config: ExecutorConfig;
  /** Where each canonical node came from, keyed by canonical path (see docs/configuration.md). */
  readonly origins: ReadonlyMap<string, SourceOrigin>;
  /** Problems found: unknown keys, wrong types, conflicting spellings, bad shorthand values. */
  readonly issues: readonly ConfigIssue[];
  /** Valid but suspicious: an empty key with its children dedented under a sibling. */
  readonly warnings: readonly ConfigWarning[];
}

/** Top-level keys that only move a value to its canonical place, with the schema of that value. */
const RELOCATIONS: Readonly<Record<string, { to: readonly string[]; schema: FieldSchema }>> = {
  namespace: { to: ['namespace'], schema: LEAF.str },
  jobNamePrefix: { to: ['jobNamePrefix'], schema: LEAF.str },
  inheritServerPod: { to: ['inheritServerPod'], schema: LEAF.bool },
  resourceLimits: { to: ['container', 'resources', 'limits'], schema: LEAF.quantityMap },
  resourceRequests: { to: ['container', 'resources', 'requests'], schema: LEAF.quantityMap },
  serviceAccountName: { to: ['pod', 'serviceAccountName'], schema: LEAF.str },
  serviceAccount: { to: ['pod', 'serviceAccountName'], schema: LEAF.str },
  image: { to: ['container', 'image'], schema: LEAF.str },
  imagePullPolicy: { to: ['container', 'imagePullPolicy'], schema: LEAF.str },
  imagePullSecrets: { to: ['pod', 'imagePullSecrets'], schema: { type: 'nameRefs' } },
  nodeSelector: { to: ['pod', 'nodeSelector'], schema: { type: 'selector' } },
  tolerations: { to: ['pod', 'tolerations'], schema: TOLERATIONS },
  labels: { to: ['metadata', 'labels'], schema: LEAF.stringMap },
  annotations: { to: ['metadata', 'annotations'], schema: LEAF.stringMap },
  securityContext: { to: ['container', 'securityContext'], schema: SECURITY_CONTEXT },
  container: { to: ['container'], schema: CONTAINER },
  pod: { to: ['pod'], schema: POD },
  job: { to: ['job'], schema: JOB },
};

/** Keys read together after the others (they depend on the rest of the layer). */
const POST_KEYS = ['useTmpfs', 'tmpfsSize', 'tmpfsPath', 'qos'];

/** Every accepted top-level key, by its camelCase name. */
const TOP_LEVEL_KEYS = [
  'metadata',
  'containerConfig',
  'command',
  ...Object.keys(RELOCATIONS),
  ...Object.keys(SHORTHANDS),
  ...POST_KEYS,
];
const TOP_LEVEL_BY_SQUASH = new Map(TOP_LEVEL_KEYS.map((k) => [squashKey(k), k]));

/** True for a key that an executor config accepts at its top level, in any spelling. */
export function isExecutorConfigKey(key: string): boolean {
  return TOP_LEVEL_BY_SQUASH.has(squashKey(key));
}

/** The detailed keys (Mage's detailed format). */
const DETAILED = ['metadata', 'container', 'pod', 'job'];

/**
 * Normalizes one layer: every accepted spelling (simple, detailed, shorthand; snake_case or camelCase)
 * into the canonical {@link ExecutorConfig}, with the origin of every value. Never throws: problems are
 * returned as issues and the offending values are left out.
 *
 * @example
 * normalizeLayer({ value: { cpu: 2, pod: { node_selector: { pool: 'gpu' } } }, path: ['executor_config'] }).config
 * // → { container: { resources: { requests: { cpu: '2' } } }, pod: { nodeSelector: { pool: 'gpu' } } }
 */
export function normalizeLayer(raw: RawLayer): NormalizedLayer {
  const issues: ConfigIssue[] = [];
  const warnings: ConfigWarning[] = [];
  const context = (): WalkContext => ({ document: raw.document, origins: new Map(), issues, warnings });
  const empty = { config: {}, origins: new Map<string, SourceOrigin>(), issues, warnings };
  if (raw.value === null || raw.value === undefined) return empty;
  if (!isPlainObject(raw.value)) {
    report(context(), 'INVALID_TYPE', raw.path, notExecutorSettings(raw.value));
    return empty;
  }
  const layer = raw.value;
  const fragments: { detailed: boolean; tree: Tree<SourceOrigin> }[] = [];
  let overlay: Tree<SourceOrigin> | undefined;
  for (const [key, value] of Object.entries(layer)) {
    const doc = [...raw.path, key];
    const name = TOP_LEVEL_BY_SQUASH.get(squashKey(key));
    const ctx = context();
    if (name === undefined) report(ctx, 'UNKNOWN_KEY', doc, unknownTopLevelKey(key));
    if (name === undefined || POST_KEYS.includes(name)) continue;
    const childSchema = TOP_LEVEL_SCHEMAS[name];
    if (childSchema)
      warnIfDedented(ctx, layer, key, raw.path, childSchema, (next) =>
        TOP_LEVEL_BY_SQUASH.has(squashKey(next)),
      );
    if (value === null) continue;
    const produced = fragmentOf(name, value, doc, ctx, layer);
    if (produced === undefined) continue;
    const tree = { value: produced, origins: ctx.origins };
    if (name === 'containerConfig') overlay = tree;
    else fragments.push({ detailed: DETAILED.includes(name), tree });
  }

  const ctx = context();
  const onConflict = conflictReporter(ctx);
  // Stable sort: detailed keys first, so that when two spellings agree the detailed one is the source.
  let merged = fragments
    .sort((a, b) => Number(b.detailed) - Number(a.detailed))
    .reduce((lower, { tree }) => mergeTrees(lower, tree, 'conflict', onConflict), EMPTY_TREE);
  const tmpfsFragment = tmpfs(layer, raw.path, memoryOf(merged.value), ctx);
  if (tmpfsFragment)
    merged = mergeTrees(merged, { value: tmpfsFragment, origins: ctx.origins }, 'conflict', onConflict);
  const qos = Object.keys(layer).find((key) => squashKey(key) === 'qos' && layer[key] !== null);
  if (qos !== undefined) merged = applyQos(merged, layer[qos], [...raw.path, qos], context());
  // `container_config` is applied over `container` of the same layer, as Mage does: no conflict.
  if (overlay) merged = mergeTrees(merged, overlay, 'overlay');
  return { config: merged.value as ExecutorConfig, origins: merged.origins, issues, warnings };
}

/** The schema of what a top-level key holds, for the dedent warning. */
const TOP_LEVEL_SCHEMAS: Readonly<Record<string, FieldSchema>> = {
  metadata: { type: 'object', schema: METADATA },
  containerConfig: CONTAINER,
  ...Object.fromEntries(Object.entries(RELOCATIONS).map(([key, { schema }]) => [key, schema])),
};

const EMPTY_TREE: Tree<SourceOrigin> = { value: {}, origins: new Map() };

/** One top-level key → its canonical fragment (undefined when invalid; the issue is recorded). */
function fragmentOf(name: string, value: unknown, doc: DocumentPath, ctx: WalkContext, layer: JsonObject) {
  if (name === 'metadata') return normalizeMetadata(value, doc, ctx);
  if (name === 'command') return commandPreset(value, doc, ctx);
  if (name === 'containerConfig')
    return relocate(['container'], walk(value, CONTAINER, { doc, canon: 'container' }, ctx));
  const relocation = RELOCATIONS[name];
  if (relocation) {
    const canon = relocation.to.reduce(joinKey, '');
    return relocate(relocation.to, walk(value, relocation.schema, { doc, canon }, ctx));
  }
  if (isRemove(value)) {
    const target = REMOVABLE_SHORTHANDS[name];
    if (target) return fragment(target, REMOVE, originAt(ctx, doc), ctx);
    report(
      ctx,
      'INVALID_VALUE',
      doc,
      'this shorthand cannot be removed with !remove: remove the field it sets instead (e.g. `pod: {volumes: !remove}`).',
    );
    return undefined;
  }
  return SHORTHANDS[name]?.(value, doc, ctx, layer);
}

function unknownTopLevelKey(key: string): string {
  return key === 'config_file'
    ? `unknown key "${key}": set the K8S_CONFIG_FILE environment variable instead of a config_file key.`
    : unknownKeyMessage(key, 'the executor config', TOP_LEVEL_KEYS);
}

/** The memory limit, else request, of a canonical layer (for the default tmpfs size). */
function memoryOf(config: JsonObject): unknown {
  const resources = isPlainObject(config.container) ? config.container.resources : undefined;
  if (!isPlainObject(resources)) return undefined;
  const of = (kind: string) => (isPlainObject(resources[kind]) ? resources[kind].memory : undefined);
  return of('limits') ?? of('requests');
}

/** Wraps a walked value at its canonical place; undefined (invalid) stays undefined. */
function relocate(to: readonly string[], value: unknown): JsonObject | undefined {
  return value === undefined ? undefined : nest(to, value);
}

/** `metadata: {namespace, labels, annotations}`; `metadata.namespace` is the layer's namespace. */
function normalizeMetadata(raw: unknown, doc: DocumentPath, ctx: WalkContext): JsonObject | undefined {
  if (isRemove(raw)) return fragment(['metadata'], REMOVE, originAt(ctx, doc), ctx);
  if (!isPlainObject(raw)) {
    report(
      ctx,
      'INVALID_TYPE',
      doc,
      `expected a map {namespace, labels, annotations}, got ${describeValue(raw)}.`,
    );
    return undefined;
  }
  const out: JsonObject = {};
  const metadata: JsonObject = {};
  for (const [key, value] of Object.entries(raw)) {
    const field = findField(METADATA, key);
    const at = [...doc, key];
    if (value === null) continue;
    if (field === undefined) {
      report(
        ctx,
        'UNKNOWN_KEY',
        at,
        unknownKeyMessage(key, 'metadata', ['namespace', 'labels', 'annotations']),
      );
    } else if (field === 'namespace') {
      const ns = walk(value, LEAF.str, { doc: at, canon: 'namespace' }, ctx);
      if (ns !== undefined) out.namespace = ns;
    } else {
      const map = walk(value, LEAF.stringMap, { doc: at, canon: joinKey('metadata', field) }, ctx);
      if (map !== undefined) metadata[field] = map;
    }
  }
  if (Object.keys(metadata).length > 0) out.metadata = metadata;
  return out;
}

/**
 * `qos` (Metaflow): `Guaranteed` makes cpu and memory limits equal to requests (whichever of the two is
 * set in this layer); `Burstable` changes nothing; `BestEffort` removes cpu and memory requests and
 * limits set by lower layers (and this layer may not set them).
 */
function applyQos(
  tree: Tree<SourceOrigin>,
  raw: unknown,
  doc: DocumentPath,
  ctx: WalkContext,
): Tree<SourceOrigin> {
  const value = typeof raw === 'string' ? raw.toLowerCase() : undefined;
  const container = (tree.value.container ?? {}) as JsonObject;
  const resources = (container.resources ?? {}) as JsonObject;
  const limits = { ...((resources.limits ?? {}) as JsonObject) };
  const requests = { ...((resources.requests ?? {}) as JsonObject) };
  const origin = originAt(ctx, doc);
  const set: JsonObject = {};
  if (value === 'burstable') return tree;
  if (value === 'guaranteed') {
    for (const resource of ['cpu', 'memory']) {
      const request = requests[resource];
      const limit = limits[resource];
      if (request === undefined && limit === undefined) {
        report(
          ctx,
          'INVALID_VALUE',
          doc,
          `qos Guaranteed needs ${resource} set in the same config (e.g. \`${resource}:\` or resource_requests.${resource}).`,
        );
      } else if (request !== undefined && limit !== undefined && request !== limit) {
        report(
          ctx,
          'INVALID_VALUE',
          doc,
          `qos Guaranteed needs the ${resource} limit (${String(limit)}) to equal the request (${String(request)}).`,
        );
      } else {
        limits[resource] = limit ?? request;
        requests[resource] = request ?? limit;
      }
    }
    Object.assign(set, { limits, requests });
  } else if (value === 'besteffort') {
    if (['cpu', 'memory'].some((r) => requests[r] !== undefined || limits[r] !== undefined)) {
      report(
        ctx,
        'INVALID_VALUE',
        doc,
        'qos BestEffort cannot be combined with cpu or memory in the same config: remove one of them.',
      );
      return tree;
    }
    Object.assign(set, {
      limits: { cpu: REMOVE, memory: REMOVE },
      requests: { cpu: REMOVE, memory: REMOVE },
    });
  } else {
    report(
      ctx,
      'INVALID_VALUE',
      doc,
      `expected qos Guaranteed, Burstable or BestEffort, got ${describeValue(raw)}.`,
    );
    return tree;
  }
  const extra = fragment(['container', 'resources'], set, origin, ctx);
  // Values that were already there agree with the filled-in ones and keep their origins.
  return mergeTrees(tree, { value: extra, origins: ctx.origins }, 'conflict');
}
