import type { ConfigIssue, ConfigIssueCode } from '../errors/config-error.js';
import { isKeyedList, isPlainObject, itemKeyOf } from './merge.js';
import { joinItem, joinKey } from './paths.js';
import type { FieldOrigin } from './types.js';

/**
 * The rows of a resolved config: every leaf, every item of a list merged by key (`container.env[API_KEY]`)
 * and every other list as a whole (`pod.tolerations`), with its canonical path. Empty maps are rows too.
 */
export function resolvedLeaves(config: unknown): [path: string, value: unknown][] {
  const rows: [string, unknown][] = [];
  const visit = (value: unknown, path: string): void => {
    if (Array.isArray(value) && isKeyedList(path)) {
      for (const [i, item] of value.entries())
        rows.push([joinItem(path, itemKeyOf(path, item) ?? `#${i}`), item]);
    } else if (isPlainObject(value) && (Object.keys(value).length > 0 || path === '')) {
      for (const [key, child] of Object.entries(value)) visit(child, joinKey(path, key));
    } else rows.push([path, value]);
  };
  visit(config, '');
  return rows;
}

const LAST_SEGMENT = /(\[[^\]]*\]|\.[^.[\]]+|^[^.[\]]+)$/;

/** The origin recorded at `path`, else at its nearest ancestor (with the canonical path of that node). */
export function nearestOrigin(
  origins: ReadonlyMap<string, FieldOrigin>,
  path: string,
): { origin: FieldOrigin; at: string } | undefined {
  for (let at = path; at !== ''; at = at.replace(LAST_SEGMENT, '')) {
    const origin = origins.get(at);
    if (origin) return { origin, at };
  }
  return undefined;
}

/**
 * An issue about the resolved value at canonical `path`, reported where the user wrote it: the user's
 * own path (plus the rest of the canonical path below the nearest recorded node) and its file and line.
 */
export function issueAt(
  origins: ReadonlyMap<string, FieldOrigin>,
  path: string,
  code: ConfigIssueCode,
  message: string,
): ConfigIssue {
  const found = nearestOrigin(origins, path);
  const userPath = found?.origin.sourcePath ? found.origin.sourcePath + path.slice(found.at.length) : path;
  const location = found?.origin.location;
  return { code, path: userPath, message, ...(location ? { location } : {}) };
}

/** The provenance of a resolved config: one origin per row of {@link resolvedLeaves}. */
export function buildProvenance(
  config: unknown,
  origins: ReadonlyMap<string, FieldOrigin>,
): Record<string, FieldOrigin> {
  const out: Record<string, FieldOrigin> = {};
  for (const [path] of resolvedLeaves(config))
    out[path] = nearestOrigin(origins, path)?.origin ?? { layer: 'built-in' };
  return out;
}
