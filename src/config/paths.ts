import type { DocumentPath } from '../ports/config-source.js';

/**
 * Path strings used in issues and provenance. One format for both canonical keys
 * (`container.resources.limits.cpu`) and the user's own paths (`blocks[2].executor_config.cpu`):
 * plain names are joined with dots, other map keys are bracketed and quoted
 * (`metadata.labels["app.kubernetes.io/name"]`), list indexes are `[0]`, and items of lists merged by
 * key are `[key]` (`container.env[API_KEY]`, `container.volumeMounts[/home/src]`).
 */

const PLAIN_KEY = /^[A-Za-z0-9_-]+$/;
const PLAIN_ITEM_KEY = /^[^[\]"]+$/;

/** `parent.key`, or `parent["odd key"]` when the key is not a plain name. */
export function joinKey(parent: string, key: string): string {
  if (!PLAIN_KEY.test(key)) return `${parent}[${JSON.stringify(key)}]`;
  return parent === '' ? key : `${parent}.${key}`;
}

/** `parent[3]`: an item of a list that is replaced whole. */
export function joinIndex(parent: string, index: number): string {
  return `${parent}[${index}]`;
}

/** `parent[KEY]`: an item of a list merged by key (quoted when the key holds brackets or quotes). */
export function joinItem(parent: string, key: string): string {
  return PLAIN_ITEM_KEY.test(key) ? `${parent}[${key}]` : `${parent}[${JSON.stringify(key)}]`;
}

/** Formats a document path as the user wrote it: `['blocks', 2, 'executor_config']` → `blocks[2].executor_config`. */
export function formatDocumentPath(path: DocumentPath): string {
  let out = '';
  for (const segment of path)
    out = typeof segment === 'number' ? joinIndex(out, segment) : joinKey(out, segment);
  return out;
}

/** True when `key` is `path` itself or lies below it. */
export function isAtOrBelow(key: string, path: string): boolean {
  if (path === '') return true;
  if (!key.startsWith(path)) return false;
  const next = key.charAt(path.length);
  return next === '' || next === '.' || next === '[';
}
