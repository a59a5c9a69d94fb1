import { createHash } from 'node:crypto';
import { resolvedLeaves } from '../config/provenance.js';
import type { FieldOrigin } from '../config/types.js';
import { MANAGED_BY_LABEL } from '../naming/labels.js';
import type { Job, JsonObject } from '../types/kube.js';
import { sortKeys, stableJson } from './stable-json.js';

/**
 * Config drift: every Job records what its pod template was made of, so that a resumed run can tell that a
 * block's config changed since an earlier attempt, and which fields (docs/configuration.md §16).
 *
 * What is recorded is the pod template without the run identity: the labels and annotations under
 * `k8s-executor/` (cluster, kind, pipeline, run ids, block, attempt, trigger, and these two annotations) and
 * `app.kubernetes.io/managed-by` are left out; the Job's name and the Job-level fields (`backoffLimit`,
 * Kueue labels, ...) are not part of the pod template. Everything else is in: labels, annotations, the
 * container (env included: the executor's own variables are downward-API references, the same in every
 * Job) and the pod spec. Values templated from `{{ attempt }}` differ between attempts: a resumed run
 * compares an attempt's record with the config resolved for that same attempt (src/executor/dag-drift.ts).
 */

/** A Job's pod template. */
export type PodTemplate = NonNullable<Job['spec']>['template'];

/** The annotation holding the hash of the pod template (identity excluded): 16 hex characters. */
export const CONFIG_HASH_ANNOTATION = 'k8s-executor/config-hash';

/** The annotation holding the drift-relevant fields: a JSON map of canonical path to value text. */
export const CONFIG_FIELDS_ANNOTATION = 'k8s-executor/config-fields';

/** The longest {@link CONFIG_FIELDS_ANNOTATION} written; a longer field list is shortened, then left out. */
export const CONFIG_FIELDS_MAX_LENGTH = 8192;

/** The longest value written as it is; a longer one (and every env item) is written as its hash. */
const LITERAL_MAX_LENGTH = 256;

/** Values written as a hash start with this (so a change is reported without the values). */
const HASHED = 'sha256:';

/** What a Job records about its pod template. */
export interface ConfigRecord {
  /** The hash of the pod template without the run identity. */
  readonly hash: string;
  /**
   * The fields, by canonical path (`container.resources.limits.memory`), each as text: the value itself
   * (strings as they are, other values as JSON) up to 256 characters, else `sha256:` and a hash; env items
   * are always hashed (they may hold secrets). Absent when the list was too long to record.
   */
  readonly fields?: Readonly<Record<string, string>>;
}

/**
 * The record of a pod template, and the annotations that carry it.
 * @example configRecordOf(job.spec!.template).hash // '3f2a9c0e1b7d4a66'
 */
export function configRecordOf(
  template: PodTemplate,
): ConfigRecord & { annotations: Record<string, string> } {
  return recordOf(template, false);
}

/**
 * {@link configRecordOf}; `sorted` says every object of the template already has its keys sorted (as
 * `buildJob` makes it), so its JSON is already the stable one and is not sorted again.
 * @internal
 */
export function recordOf(
  template: PodTemplate,
  sorted: boolean,
): ConfigRecord & { annotations: Record<string, string> } {
  const relevant = withoutIdentity(template);
  const hash = hashOf(sorted ? JSON.stringify(relevant) : stableJson(relevant));
  const rows = resolvedLeaves(asConfig(relevant));
  const fits = (f: Record<string, string>) => JSON.stringify(f).length <= CONFIG_FIELDS_MAX_LENGTH;
  const literal = Object.fromEntries(rows.map(([path, value]) => [path, textOf(path, value)]));
  // Hashing every value is only needed when the values themselves do not fit.
  const fields = fits(literal)
    ? literal
    : [Object.fromEntries(rows.map(([path, value]) => [path, hashedText(value)]))].find(fits);
  return {
    hash,
    ...(fields ? { fields } : {}),
    annotations: {
      [CONFIG_HASH_ANNOTATION]: hash,
      ...(fields ? { [CONFIG_FIELDS_ANNOTATION]: JSON.stringify(fields) } : {}),
    },
  };
}

/**
 * The record a Job carries in its annotations (an earlier attempt's, read from the cluster), or undefined
 * when it has none (made by an older version). A field list that does not parse is left out.
 */
export function recordedConfig(job: Job): ConfigRecord | undefined {
  const annotations = job.metadata.annotations ?? {};
  const hash = annotations[CONFIG_HASH_ANNOTATION];
  if (typeof hash !== 'string' || hash === '') return undefined;
  const fields = parseFields(annotations[CONFIG_FIELDS_ANNOTATION]);
  return { hash, ...(fields ? { fields } : {}) };
}

/** One field that differs between two records. */
export interface ConfigChange {
  /** The canonical path, e.g. `container.resources.limits.memory`. */
  readonly path: string;
  /** The earlier value's text; undefined when the field was not set. */
  readonly before?: string;
  /** The current value's text; undefined when the field is no longer set. */
  readonly after?: string;
  /** True when either value is recorded as a hash only (an env item, a long value): say "changed". */
  readonly hidden: boolean;
  /** Where the current value was set (from the current config's provenance), when known. */
  readonly origin?: FieldOrigin;
}

/** How a Job's pod template differs from an earlier attempt's. */
export interface ConfigDrift {
  /** True when the pod templates differ. */
  readonly changed: boolean;
  /** The fields that differ, by path; empty when unchanged, or when the fields are not known. */
  readonly changes: readonly ConfigChange[];
  /** False when a record has no field list (it was too long to record): only the hash tells. */
  readonly fieldsKnown: boolean;
}

/**
 * Compares an earlier attempt's record (or Job) with the current one's, naming each changed field and,
 * from the current config's provenance, where its value is set now. Undefined when the earlier Job
 * recorded nothing (it was made by a version without drift records). Pure.
 *
 * @example
 * const prepared = prepareJob({ snapshot, mode: 'block', identity });
 * // job: the earlier attempt's Job, as read from the cluster
 * const drift = configDrift(job, prepared.job, prepared.resolved.provenance);
 * drift?.changes.map(describeConfigChange);
 * // ['container.resources.limits.memory 2Gi → 4Gi, set in pipelines/etl/metadata.yaml:14']
 */
export function configDrift(
  earlier: Job | ConfigRecord,
  current: Job | ConfigRecord,
  provenance: Readonly<Record<string, FieldOrigin>> = {},
): ConfigDrift | undefined {
  const before = 'hash' in earlier ? earlier : recordedConfig(earlier);
  const after = 'hash' in current ? current : recordedConfig(current);
  if (!before || !after) return undefined;
  const changed = before.hash !== after.hash;
  if (!before.fields || !after.fields) return { changed, changes: [], fieldsKnown: false };
  const a = before.fields;
  const b = after.fields;
  const paths = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  const changes = paths
    .filter((path) => a[path] !== b[path])
    .map((path): ConfigChange => {
      const origin = b[path] !== undefined ? provenance[path] : undefined;
      return {
        path,
        ...(a[path] !== undefined ? { before: a[path] } : {}),
        ...(b[path] !== undefined ? { after: b[path] } : {}),
        hidden: Boolean(a[path]?.startsWith(HASHED) || b[path]?.startsWith(HASHED)),
        ...(origin ? { origin } : {}),
      };
    });
  return { changed, changes, fieldsKnown: true };
}

/**
 * One line per change: `container.resources.limits.memory 2Gi → 4Gi, set in pipelines/etl/metadata.yaml:14`;
 * `container.env[API_KEY] changed, set by the block layer`; `pod.nodeSelector.pool gpu → (not set)`.
 */
export function describeConfigChange(change: ConfigChange): string {
  const what = change.hidden
    ? change.before === undefined
      ? 'added'
      : change.after === undefined
        ? 'removed'
        : 'changed'
    : `${change.before ?? '(not set)'} → ${change.after ?? '(not set)'}`;
  return `${change.path} ${what}${change.origin ? `, ${setBy(change.origin)}` : ''}`;
}

/**
 * The lines of a drift: one per changed field ({@link describeConfigChange}), or one line saying that
 * the pod template changed when no field can be named (a record without its field list, or a change
 * the field list does not show). Empty when nothing changed.
 * @example
 * const prepared = prepareJob({ snapshot, mode: 'block', identity });
 * const drift = configDrift(job, prepared.job, prepared.resolved.provenance);
 * if (drift) describeConfigDrift(drift); // ['container.resources.limits.memory 2Gi → 4Gi, set in metadata.yaml:14']
 */
export function describeConfigDrift(drift: ConfigDrift): string[] {
  if (!drift.changed) return [];
  if (drift.changes.length > 0) return drift.changes.map(describeConfigChange);
  return [
    drift.fieldsKnown
      ? 'the pod template changed (no recorded field differs)'
      : 'the pod template changed (its fields were too many to record)',
  ];
}

/** Where a value is set, as a phrase: `set in file:line`, `set by --set cpu=4`, `the built-in default`. */
function setBy(origin: FieldOrigin): string {
  const { location, layer, sourcePath } = origin;
  if (layer === 'built-in') return 'the built-in default';
  if (layer === 'server-pod') return 'inherited from the server pod';
  if (location?.line !== undefined) return `set in ${location.file}:${location.line}`;
  if (location) return `set by ${location.file}`;
  return sourcePath ? `set by ${sourcePath}` : `set by the ${layer} layer`;
}

/** The pod template without the labels and annotations of the run identity. */
function withoutIdentity(template: PodTemplate): PodTemplate {
  const keep = (map: Record<string, string> | undefined) =>
    Object.fromEntries(Object.entries(map ?? {}).filter(([key]) => !isIdentityKey(key)));
  // Keys in sorted order, so that the JSON of a sorted template is its stable JSON (see recordOf).
  return {
    metadata: { annotations: keep(template.metadata?.annotations), labels: keep(template.metadata?.labels) },
    spec: template.spec,
  };
}

function isIdentityKey(key: string): boolean {
  return key.startsWith('k8s-executor/') || key === MANAGED_BY_LABEL;
}

/** The pod template in the config's own shape, so that its rows have the config's canonical paths. */
function asConfig(template: PodTemplate): JsonObject {
  const { containers, ...pod } = template.spec;
  const { labels, annotations } = template.metadata ?? {};
  const nonEmpty = (map: Record<string, string> | undefined) =>
    map && Object.keys(map).length > 0 ? map : undefined;
  const metadata = { labels: nonEmpty(labels), annotations: nonEmpty(annotations) };
  return {
    ...(metadata.labels || metadata.annotations ? { metadata: sortKeys(metadata) } : {}),
    container: (containers[0] ?? {}) as JsonObject,
    pod: pod as JsonObject,
  };
}

function textOf(path: string, value: unknown): string {
  if (path.startsWith('container.env[')) return hashedText(value);
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length <= LITERAL_MAX_LENGTH && !text.startsWith(HASHED) ? text : hashedText(value);
}

function hashedText(value: unknown): string {
  return `${HASHED}${hashOf(stableJson(value)).slice(0, 12)}`;
}

function hashOf(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex').slice(0, 16);
}

function parseFields(text: string | undefined): Record<string, string> | undefined {
  if (text === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
    const entries = Object.entries(parsed);
    return entries.every(([, v]) => typeof v === 'string')
      ? (Object.fromEntries(entries) as Record<string, string>)
      : undefined;
  } catch {
    return undefined;
  }
}
