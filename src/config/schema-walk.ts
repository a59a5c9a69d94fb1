import type { ConfigIssue, ConfigIssueCode, SourceLocation } from '../errors/config-error.js';
import type { DocumentPath, RawDocument } from '../ports/config-source.js';
import type { JsonObject } from '../types/kube.js';
import { dedentWarning, isResourceName, isScalarValue } from './dedent.js';
import { didYouMean } from './did-you-mean.js';
import { type FieldSchema, type ObjectSchema, USER_MAP_FIELDS } from './k8s-schema.js';
import { squashKey, toCamelCase, toSnakeCase } from './key-case.js';
import { isRemove, isReplacement, REMOVE, replaceWith } from './markers.js';
import { copyOrigins, isKeyedList, isPlainObject, itemKeyOf, mergeValue } from './merge.js';
import { formatDocumentPath, joinIndex, joinItem, joinKey } from './paths.js';
import { asBoolean } from './scalars.js';
import type { ConfigWarning } from './warnings.js';

/** Where a normalized value came from: the user's path and, for YAML, its file and line. */
export interface SourceOrigin {
  /** The path in the user's own spelling, e.g. `k8s_executor_config.pod.tolerations[0]`. */
  sourcePath: string;
  /** The file and line, when the value came from a file. */
  location?: SourceLocation;
}

/** Shared state of one normalization: the document (for lines), the origins and the issues found. */
export interface WalkContext {
  readonly document: RawDocument | undefined;
  readonly origins: Map<string, SourceOrigin>;
  readonly issues: ConfigIssue[];
  /** Where warnings go (none are collected without it). */
  readonly warnings?: ConfigWarning[];
}

/** A raw value's place: its path in the document (user spelling) and the canonical path it becomes. */
export interface At {
  readonly doc: DocumentPath;
  readonly canon: string;
}

/** The origin of the value at document path `doc`. */
export function originAt(ctx: WalkContext, doc: DocumentPath): SourceOrigin {
  const location = ctx.document?.locate(doc);
  return { sourcePath: formatDocumentPath(doc), ...(location ? { location } : {}) };
}

/** Records an issue about the value at document path `doc`. */
export function report(ctx: WalkContext, code: ConfigIssueCode, doc: DocumentPath, message: string): void {
  const location = ctx.document?.locate(doc);
  ctx.issues.push({ code, path: formatDocumentPath(doc), message, ...(location ? { location } : {}) });
}

/** Reports two spellings of one field with different values (the first one is kept). */
export function conflictReporter(ctx: WalkContext) {
  return (canon: string, kept: SourceOrigin | undefined, dropped: SourceOrigin | undefined): void => {
    const where = dropped?.location ?? kept?.location;
    ctx.issues.push({
      code: 'CONFLICTING_KEYS',
      path: dropped?.sourcePath ?? canon,
      message: `sets ${canon} to a different value than \`${kept?.sourcePath ?? '?'}\`: keep only one of the two.`,
      ...(where ? { location: where } : {}),
    });
  };
}

/** Describes what a schema expects, for INVALID_TYPE messages. */
function describeSchema(schema: FieldSchema): string {
  switch (schema.type) {
    case 'string':
      return 'a string';
    case 'integer':
      return 'a whole number';
    case 'boolean':
      return 'true or false';
    case 'quantity':
      return 'a quantity such as 500m or 2Gi';
    case 'stringList':
      return 'a list of strings';
    case 'map':
      return schema.values === 'quantity'
        ? 'a map of resource names to quantities'
        : 'a map of names to strings';
    case 'selector':
      return 'a map of labels, or "key=value,key2=value2"';
    case 'nameRefs':
      return 'a name, a list of names, or a list of {name}';
    case 'object':
      return `an object ${fieldSummary(schema.schema)}`;
    case 'list':
      return schema.items.type === 'object'
        ? `a list of ${fieldSummary(schema.items.schema)}`
        : `a list of ${describeSchema(schema.items).replace(/^an? /, '')}s`;
    default:
      return 'an object';
  }
}

function fieldSummary(schema: ObjectSchema): string {
  return `{${Object.keys(schema.fields).slice(0, 4).join(', ')}}`;
}

/** Describes a raw value's type: `a string`, `a list`, ... */
/**
 * The problem of executor settings (a layer: a block's or pipeline's `executor_config`, a project's
 * `k8s_executor_config`, a template) that are not a map. `!replace` on the whole of them is refused with
 * where to put it instead: a layer is always merged over the ones below, key by key.
 */
export function notExecutorSettings(value: unknown): string {
  return isReplacement(value)
    ? '`!replace` goes on a key inside the executor settings, not on all of them: put it on the key whose lower value it replaces (e.g. `pod: !replace {...}`).'
    : `expected a map of executor settings, got ${describeValue(value)}.`;
}

export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (isRemove(value)) return '!remove';
  if (isReplacement(value)) return `!replace ${describeValue(value.value)}`;
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  if (typeof value === 'number') return 'a number';
  if (typeof value === 'boolean') return 'a boolean';
  return `a ${typeof value}`;
}

/**
 * A scalar as written, for messages about values that are never secrets (sizes, counts, ports): `-1`,
 * `1.5`, `true`, `"two"` (cut at 40 characters), `"" (empty)`; a list or map as {@link describeValue} says it.
 */
export function quoteValue(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value !== 'string') return describeValue(value);
  if (value.trim() === '') return `"${value}" (empty)`;
  return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
}

function invalidType(ctx: WalkContext, raw: unknown, schema: FieldSchema, at: At): undefined {
  report(ctx, 'INVALID_TYPE', at.doc, `expected ${describeSchema(schema)}, got ${describeValue(raw)}.`);
  return undefined;
}

const squashed = new WeakMap<ObjectSchema, Map<string, string>>();

/** The API name of `key` in `schema`, matched regardless of snake_case/camelCase. */
export function findField(schema: ObjectSchema, key: string): string | undefined {
  if (Object.hasOwn(schema.fields, key)) return key;
  let bySquash = squashed.get(schema);
  if (!bySquash) {
    bySquash = new Map(Object.keys(schema.fields).map((name) => [squashKey(name), name]));
    squashed.set(schema, bySquash);
  }
  return bySquash.get(squashKey(key));
}

/** The UNKNOWN_KEY message, with a suggestion in the user's own spelling style. */
export function unknownKeyMessage(key: string, where: string, known: readonly string[]): string {
  const snake = key.includes('_');
  const candidates = known.flatMap((name) => [name, toSnakeCase(name)]);
  const match = didYouMean(key, candidates);
  const suggestion = match === undefined ? undefined : snake ? toSnakeCase(match) : toCamelCase(match);
  return suggestion === undefined
    ? `unknown key "${key}" in ${where}; see docs/configuration.md for the accepted keys.`
    : `unknown key "${key}" in ${where}; did you mean "${suggestion}"?`;
}

/**
 * Normalizes one raw value against its schema into canonical form, recording the origin of every node.
 * Returns `undefined` when the value is empty (not set) or invalid (the issue is recorded); `!remove` and
 * `!replace` come back as their markers (docs/configuration.md §5).
 */
export function walk(raw: unknown, schema: FieldSchema, at: At, ctx: WalkContext): unknown {
  if (raw === null || raw === undefined) return undefined;
  ctx.origins.set(at.canon, originAt(ctx, at.doc));
  if (isRemove(raw)) return REMOVE;
  if (isReplacement(raw)) {
    const inner = walk(raw.value, schema, at, ctx);
    return inner === undefined || isRemove(inner) ? inner : replaceWith(inner);
  }
  switch (schema.type) {
    case 'string':
      if (schema.coerce && isScalar(raw)) return String(raw);
      return typeof raw === 'string' ? raw : invalidType(ctx, raw, schema, at);
    case 'integer':
      return Number.isInteger(raw) ? raw : invalidType(ctx, raw, schema, at);
    case 'boolean':
      return asBoolean(raw) ?? invalidType(ctx, raw, schema, at);
    case 'quantity':
      return typeof raw === 'string' || typeof raw === 'number'
        ? String(raw)
        : invalidType(ctx, raw, schema, at);
    case 'stringList':
      return walkStringList(raw, schema, at, ctx);
    case 'map':
      return walkMap(raw, schema, at, ctx);
    case 'selector':
      return typeof raw === 'string' ? parseSelector(raw, at, ctx) : walkMap(raw, schema, at, ctx);
    case 'nameRefs':
      return walkNameRefs(raw, at, ctx);
    case 'object':
      return walkObject(raw, schema.schema, at, ctx);
    case 'list':
      return walkList(raw, schema, at, ctx);
    case 'open':
      return convertOpen(raw, at, ctx, false);
    case 'forbidden':
      report(ctx, 'INVALID_VALUE', at.doc, `this field cannot be set here: ${schema.message}.`);
      return undefined;
  }
}

function isScalar(value: unknown): value is string | number | boolean {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

function walkStringList(raw: unknown, schema: FieldSchema, at: At, ctx: WalkContext): unknown {
  if (!Array.isArray(raw)) return invalidType(ctx, raw, schema, at);
  const out: string[] = [];
  raw.forEach((item, i) => {
    const doc = [...at.doc, i];
    if (item === null) return;
    ctx.origins.set(joinIndex(at.canon, i), originAt(ctx, doc));
    if (isScalar(item)) out.push(String(item));
    else report(ctx, 'INVALID_TYPE', doc, `expected a string, got ${describeValue(item)}.`);
  });
  return out;
}

/** A map of user keys: keys kept as written; scalar values become strings. */
function walkMap(raw: unknown, schema: FieldSchema, at: At, ctx: WalkContext): unknown {
  if (!isPlainObject(raw)) return invalidType(ctx, raw, schema, at);
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(raw)) {
    const doc = [...at.doc, key];
    if (value === null) continue;
    ctx.origins.set(joinKey(at.canon, key), originAt(ctx, doc));
    const quantity = schema.type === 'map' && schema.values === 'quantity';
    if (isRemove(value)) out[key] = REMOVE;
    else if (quantity ? typeof value === 'string' || typeof value === 'number' : isScalar(value)) {
      out[key] = String(value);
    } else
      report(
        ctx,
        'INVALID_TYPE',
        doc,
        `expected ${quantity ? 'a quantity' : 'a string'}, got ${describeValue(value)}.`,
      );
  }
  return out;
}

/** `"k=v,k2=v2"` → `{k: v, k2: v2}` (Metaflow's node_selector string). */
function parseSelector(raw: string, at: At, ctx: WalkContext): unknown {
  const out: JsonObject = {};
  for (const part of raw
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '')) {
    const eq = part.indexOf('=');
    if (eq <= 0) {
      report(
        ctx,
        'INVALID_VALUE',
        at.doc,
        `"${part}" is not key=value; write "key=value,key2=value2" or a map.`,
      );
      return undefined;
    }
    const key = part.slice(0, eq).trim();
    out[key] = part.slice(eq + 1).trim();
    ctx.origins.set(joinKey(at.canon, key), originAt(ctx, at.doc));
  }
  return out;
}

/** `"x"`, `["x"]`, `[{name: x}]` → `[{name: x}]`. */
function walkNameRefs(raw: unknown, at: At, ctx: WalkContext): unknown {
  const items = Array.isArray(raw) ? raw : [raw];
  const out: JsonObject[] = [];
  items.forEach((item, i) => {
    const doc = Array.isArray(raw) ? [...at.doc, i] : at.doc;
    if (item === null) return;
    const name =
      typeof item === 'string'
        ? item
        : isPlainObject(item) && typeof item.name === 'string'
          ? item.name
          : undefined;
    if (name === undefined || (isPlainObject(item) && Object.keys(item).length !== 1)) {
      report(
        ctx,
        'INVALID_TYPE',
        doc,
        `expected a name, a list of names, or a list of {name}, got ${describeValue(item)}.`,
      );
      return;
    }
    const itemCanon = isKeyedList(at.canon) ? joinItem(at.canon, name) : joinIndex(at.canon, out.length);
    ctx.origins.set(itemCanon, originAt(ctx, doc));
    ctx.origins.set(joinKey(itemCanon, 'name'), originAt(ctx, doc));
    if (!out.some((ref) => ref.name === name)) out.push({ name });
  });
  return out;
}

/** Puts `field` into `out`; a second spelling of the same field is merged in conflict mode. */
function put(
  out: JsonObject,
  field: string,
  canon: string,
  ctx: WalkContext,
  produce: (c: WalkContext) => unknown,
): void {
  if (!(field in out)) {
    const value = produce(ctx);
    if (value !== undefined) out[field] = value;
    return;
  }
  const upper = new Map<string, SourceOrigin>();
  const value = produce({ ...ctx, origins: upper });
  if (value === undefined) return;
  out[field] = mergeValue(
    canon,
    out[field],
    value,
    { upper, out: ctx.origins },
    'conflict',
    conflictReporter(ctx),
  );
}

function walkObject(raw: unknown, schema: ObjectSchema, at: At, ctx: WalkContext): unknown {
  if (!isPlainObject(raw)) return invalidType(ctx, raw, { type: 'object', schema }, at);
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(raw)) {
    const field = findField(schema, key);
    const doc = [...at.doc, key];
    if (field === undefined) {
      report(ctx, 'UNKNOWN_KEY', doc, unknownKeyMessage(key, schema.name, Object.keys(schema.fields)));
      continue;
    }
    const canon = joinKey(at.canon, field);
    const fieldSchema = schema.fields[field]!;
    warnIfDedented(ctx, raw, key, at.doc, fieldSchema, (next) => findField(schema, next) !== undefined);
    put(out, field, canon, ctx, (c) => walk(value, fieldSchema, { doc, canon }, c));
  }
  return out;
}

/**
 * Warns when `key` of `raw` is empty and the key after it looks like one of its children (see dedent.ts).
 * `isKnownHere` tells whether a key is valid at `raw`'s own level.
 */
export function warnIfDedented(
  ctx: WalkContext,
  raw: JsonObject,
  key: string,
  doc: DocumentPath,
  schema: FieldSchema,
  isKnownHere: (key: string) => boolean,
): void {
  if (!ctx.warnings || raw[key] !== null) return;
  const belongsUnder = (next: string, value: unknown): boolean => {
    switch (schema.type) {
      case 'object':
        return findField(schema.schema, next) !== undefined;
      case 'map':
        return schema.values === 'quantity'
          ? isResourceName(next) && isScalarValue(value)
          : isScalarValue(value) && !isKnownHere(next);
      case 'selector':
        return isScalarValue(value) && !isKnownHere(next);
      default:
        return false;
    }
  };
  const warning = dedentWarning(ctx.document, raw, doc, key, belongsUnder);
  if (warning) ctx.warnings.push(warning);
}

function walkList(raw: unknown, schema: FieldSchema & { type: 'list' }, at: At, ctx: WalkContext): unknown {
  if (!Array.isArray(raw)) return invalidType(ctx, raw, schema, at);
  if (!isKeyedList(at.canon)) {
    return raw
      .map((item, i) => walk(item, schema.items, { doc: [...at.doc, i], canon: joinIndex(at.canon, i) }, ctx))
      .filter((item) => item !== undefined);
  }
  const out: unknown[] = [];
  raw.forEach((item, i) => {
    const doc = [...at.doc, i];
    const scratch = new Map<string, SourceOrigin>();
    const placeholder = joinItem(at.canon, `#${i}`);
    const value = walk(item, schema.items, { doc, canon: placeholder }, { ...ctx, origins: scratch });
    if (value === undefined || value === null) return;
    const key = itemKeyOf(at.canon, value);
    if (key === undefined) {
      report(
        ctx,
        'INVALID_VALUE',
        doc,
        `this item has no ${keyFieldOf(at.canon)}, which identifies it when layers are merged.`,
      );
      return;
    }
    const itemCanon = joinItem(at.canon, key);
    const upper = new Map<string, SourceOrigin>();
    copyOrigins(scratch, upper, placeholder, itemCanon);
    const at2 = out.findIndex((x) => itemKeyOf(at.canon, x) === key);
    if (at2 < 0) {
      copyOrigins(upper, ctx.origins, itemCanon);
      out.push(value);
    } else {
      out[at2] = mergeValue(
        itemCanon,
        out[at2],
        value,
        { upper, out: ctx.origins },
        'conflict',
        conflictReporter(ctx),
      );
    }
  });
  return out;
}

function keyFieldOf(listPath: string): string {
  if (listPath.endsWith('volumeMounts')) return 'mountPath';
  if (listPath.endsWith('ports')) return 'containerPort';
  if (listPath.endsWith('envFrom')) return 'secretRef or configMapRef name';
  return 'name';
}

/** Objects not modeled: keys to camelCase (user maps kept as written), values as they are; empty = not set. */
function convertOpen(raw: unknown, at: At, ctx: WalkContext, keepKeys: boolean): unknown {
  if (raw === null || raw === undefined) return undefined;
  ctx.origins.set(at.canon, originAt(ctx, at.doc));
  if (isReplacement(raw)) {
    const inner = convertOpen(raw.value, at, ctx, keepKeys);
    return inner === undefined ? undefined : replaceWith(inner);
  }
  if (Array.isArray(raw)) {
    return raw.flatMap((item, i) =>
      item === null
        ? []
        : [convertOpen(item, { doc: [...at.doc, i], canon: joinIndex(at.canon, i) }, ctx, false)],
    );
  }
  if (!isPlainObject(raw)) return raw;
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(raw)) {
    const name = keepKeys ? key : toCamelCase(key);
    const canon = joinKey(at.canon, name);
    const userMap = !keepKeys && USER_MAP_FIELDS.has(name) && isPlainObject(value);
    put(out, name, canon, ctx, (c) => convertOpen(value, { doc: [...at.doc, key], canon }, c, userMap));
  }
  return out;
}
