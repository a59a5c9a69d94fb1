import type { ConfigIssue, SourceLocation } from '../errors/config-error.js';
import type { DocumentPath, RawDocument } from '../ports/config-source.js';
import type { JsonObject } from '../types/kube.js';
import { CONTAINER, type FieldSchema, JOB, POD } from './k8s-schema.js';
import { squashKey } from './key-case.js';
import { isPlainObject } from './merge.js';
import { findField } from './schema-walk.js';

/**
 * Runtime overrides (Metaflow's `--with kubernetes:cpu=4`, the CLI's `--set`): one more layer, above the
 * block's config and below an enforced policy, read by the same normalization and validation as the files
 * (docs/configuration.md §2 and §15).
 */

/** One runtime override: a config key (any spelling a layer accepts, or a path to one) and its value. */
export interface ConfigOverride {
  /**
   * A key a layer accepts (`cpu`, `memory`, `namespace`, `use_tmpfs`), or a dotted path to one
   * (`container.resources.limits.memory`, `job.backoff_limit`). A map key that holds dots goes in
   * brackets: `labels["app.kubernetes.io/name"]` or `container.resources.limits[nvidia.com/gpu]`.
   */
  readonly key: string;
  /** The value, typed as YAML types it (`4`, `'8Gi'`, `true`, a list, a map, `REMOVE`, `replaceWith(...)`). */
  readonly value: unknown;
  /** How the user wrote it, for messages and `explain` (e.g. `--set cpu=4`). @default `override <key>` */
  readonly source?: string;
}

/**
 * Runtime overrides: a list (applied in order, a later one winning for the same key) or a map of key to
 * value (`{ cpu: 4, 'container.resources.limits.memory': '8Gi' }`).
 */
export type ConfigOverrides = readonly ConfigOverride[] | Readonly<Record<string, unknown>>;

/** The overrides as a list, in order; an `undefined` value is no override (as an optional field left out). */
export function overrideList(overrides: ConfigOverrides | undefined): ConfigOverride[] {
  if (overrides === undefined) return [];
  const list = Array.isArray(overrides)
    ? [...(overrides as readonly ConfigOverride[])]
    : Object.entries(overrides).map(([key, value]) => ({ key, value }));
  return list.filter((override) => override.value !== undefined);
}

/** The label of an override in messages and `explain`: its `source`, else `override <key>`. */
export function overrideSource(override: ConfigOverride): string {
  return override.source ?? `override ${override.key}`;
}

/** The override layer, as a raw layer for normalization, and the problems of the keys themselves. */
export interface OverrideLayer {
  /** The raw layer (`undefined` when no override is valid), located at its flags. */
  readonly document: RawDocument | undefined;
  /** Keys that cannot be read (`a..b`, an unclosed bracket). */
  readonly issues: ConfigIssue[];
}

/**
 * Builds the raw layer of a run's overrides: each key is split into its path and the value set there, a
 * later override winning over an earlier one for the same path (top-level keys compare in any spelling:
 * `use_tmpfs` and `useTmpfs` are one key). Every value of the layer is located at the override that set
 * it, so a problem found by normalization or validation names the flag (`--set cpu=abc: cpu: ...`).
 */
export function overrideLayer(overrides: readonly ConfigOverride[]): OverrideLayer {
  const issues: ConfigIssue[] = [];
  const value: JsonObject = {};
  const sources = new Map<string, string>();
  for (const override of overrides) {
    const source = overrideSource(override);
    const segments = parseOverrideKey(override.key);
    if (typeof segments === 'string') {
      issues.push({
        code: 'INVALID_VALUE',
        path: override.key,
        message: `cannot read the key "${override.key}": ${segments}. Write a key such as cpu, or a path such as container.resources.limits.memory (a map key with dots in brackets: labels["app.kubernetes.io/name"]).`,
        location: { file: source },
      });
      continue;
    }
    const path = setAt(value, segments, override.value);
    // A path set again replaces what was set below it (in any spelling of its top-level key).
    for (const key of [...sources.keys()]) {
      const at = JSON.parse(key) as string[];
      if (squashKey(at[0]!) === squashKey(path[0]!) && startsWith(at.slice(1), path.slice(1)))
        sources.delete(key);
    }
    sources.set(JSON.stringify(path), source);
  }
  if (sources.size === 0) return { document: undefined, issues };
  const located = [...sources].map(([key, source]) => [JSON.parse(key) as string[], source] as const);
  const locate = (path: DocumentPath): SourceLocation | undefined => {
    // The override that set this value or one of its parents; else the first one below it.
    const own = located.filter(([at]) => startsWith(path, at)).sort((a, b) => b[0].length - a[0].length)[0];
    const below = own ?? located.find(([at]) => startsWith(at, path));
    return below ? { file: below[1] } : undefined;
  };
  return { document: { file: '<overrides>', value, locate }, issues };
}

/**
 * An `UNKNOWN_KEY` of the override layer at its top level that names a field of the container, the pod or
 * the Job gets the path that sets it: `backoff_limit` → `job.backoff_limit`.
 */
export function withOverridePathHint(issue: ConfigIssue): ConfigIssue {
  if (issue.code !== 'UNKNOWN_KEY' || issue.path.includes('.') || issue.path.includes('[')) return issue;
  const owners: [string, FieldSchema][] = [
    ['container', CONTAINER],
    ['pod', POD],
    ['job', JOB],
  ];
  const owner = owners.find(
    ([, schema]) => schema.type === 'object' && findField(schema.schema, issue.path) !== undefined,
  );
  if (!owner) return issue;
  return {
    ...issue,
    message: `unknown key "${issue.path}" at the top level of an override: it is a field of the ${owner[0]}, so write its path, ${owner[0]}.${issue.path}.`,
  };
}

/**
 * The path segments of an override key: `container.resources.limits.memory` → 4 segments,
 * `labels["app.kubernetes.io/name"]` and `labels[app.kubernetes.io/name]` → 2. A string says why the key
 * cannot be read.
 */
export function parseOverrideKey(key: string): string[] | string {
  const segments: string[] = [];
  let i = 0;
  let expectSegment = true;
  while (i < key.length) {
    const char = key[i]!;
    if (char === '[') {
      const close = key.startsWith('["', i) ? closingQuote(key, i + 2) : key.indexOf(']', i + 1);
      if (close < 0) return 'a "[" is not closed';
      const quoted = key.startsWith('["', i);
      const inner = quoted ? key.slice(i + 1, close + 1) : key.slice(i + 1, close);
      let segment: string;
      try {
        segment = quoted ? (JSON.parse(inner) as string) : inner;
      } catch {
        return `${inner} is not a quoted key`;
      }
      if (segment === '') return 'a key in brackets is empty';
      segments.push(segment);
      i = close + (quoted ? 2 : 1);
      if (quoted && key[i - 1] !== ']') return 'a quoted key must be followed by "]"';
      expectSegment = false;
      continue;
    }
    if (char === '.') {
      if (expectSegment) return 'a "." has no key before it';
      i += 1;
      expectSegment = true;
      if (i === key.length) return 'it ends with "."';
      continue;
    }
    if (char === ']') return 'a "]" has no "[" before it';
    if (!expectSegment) return 'a key in brackets must be followed by "." or "["';
    let end = i;
    while (end < key.length && !'.[]'.includes(key[end]!)) end += 1;
    segments.push(key.slice(i, end));
    i = end;
    expectSegment = false;
  }
  if (segments.length === 0) return 'it is empty';
  return segments;
}

/** The index of the `"` that closes a JSON string opened just before `from`, or -1. */
function closingQuote(key: string, from: number): number {
  for (let i = from; i < key.length; i++) {
    if (key[i] === '\\') i += 1;
    else if (key[i] === '"') return i;
  }
  return -1;
}

/**
 * Sets `value` at `segments` in `root`, creating maps on the way, and returns the path it used. At the top
 * level, two spellings of one key are one key: a value set again replaces the other spelling's, a path
 * below it goes into the map already there.
 */
function setAt(root: JsonObject, segments: readonly string[], value: unknown): string[] {
  const [first, ...rest] = segments as [string, ...string[]];
  const existing = Object.keys(root).find((k) => squashKey(k) === squashKey(first));
  if (rest.length === 0) {
    if (existing !== undefined) delete root[existing];
    root[first] = value;
    return [first];
  }
  const top = existing ?? first;
  let parent = root;
  const path = [top, ...rest];
  for (const [index, key] of path.entries()) {
    if (index === path.length - 1) parent[key] = value;
    else {
      // A copy on the way down: a map the caller passed as a value is never written into.
      const next: JsonObject = isPlainObject(parent[key]) ? { ...parent[key] } : {};
      parent[key] = next;
      parent = next;
    }
  }
  return path;
}

function startsWith(path: DocumentPath, prefix: readonly (string | number)[]): boolean {
  return prefix.length <= path.length && prefix.every((segment, i) => path[i] === segment);
}
