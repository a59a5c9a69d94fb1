import type { DocumentPath, RawDocument } from '../ports/config-source.js';
import type { JsonObject } from '../types/kube.js';
import { formatDocumentPath } from './paths.js';
import type { ConfigWarning } from './warnings.js';

/**
 * The usual indentation slip: a key left empty (so it is not set) with the lines meant for it written at
 * its own level, e.g. `resource_limits:` then `memory: 4Gi` under it at the same indentation. Warns when the
 * key right after an empty one is something the empty key could hold (`belongsUnder`).
 */
export function dedentWarning(
  document: RawDocument | undefined,
  map: JsonObject,
  path: DocumentPath,
  key: string,
  belongsUnder: (next: string, value: unknown) => boolean,
): ConfigWarning | undefined {
  if (map[key] !== null) return undefined;
  const keys = Object.keys(map);
  const next = keys[keys.indexOf(key) + 1];
  if (next === undefined || !belongsUnder(next, map[next])) return undefined;
  const here = document?.locate([...path, key]);
  const there = document?.locate([...path, next]);
  if (here?.line !== undefined && there?.line !== undefined && there.line <= here.line) return undefined;
  return {
    code: 'DEDENTED_KEYS',
    path: formatDocumentPath([...path, key]),
    message: `"${key}" is empty, so it is not set, and the next line sets "${next}" at the same indentation: if "${next}" belongs under "${key}", indent it; if not, delete the empty "${key}:".`,
    ...(here ? { location: here } : {}),
  };
}

/** A value a one-line setting holds: a string, number or boolean. */
export function isScalarValue(value: unknown): boolean {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

/** A resource name as in `resource_limits` (`cpu`, `memory`, `ephemeral-storage`, `nvidia.com/gpu`, ...). */
export function isResourceName(key: string): boolean {
  return /^(cpu|memory|ephemeral-storage|storage|hugepages-\S+)$/.test(key) || key.includes('/');
}
