import { resolvedLeaves } from './provenance.js';
import type { FieldOrigin, ResolvedConfig } from './types.js';

/** One resolved field and where it came from. */
export interface ExplainRow {
  /** Canonical path, e.g. `container.resources.limits.cpu` or `container.env[API_KEY]`. */
  path: string;
  /** The resolved value; env values are shown as `"***"` (they may be secrets), except the built-in ones. */
  value: unknown;
  /** The layer, file:line and user path that set it. */
  origin: FieldOrigin;
}

/**
 * One row per resolved leaf, per item of a list merged by key, and per other list, sorted by path,
 * for `k8s-executor explain`.
 *
 * @example
 * explainConfig(resolved).find((r) => r.path === 'namespace');
 * // { path: 'namespace', value: 'data', origin: { layer: 'project', sourcePath: 'k8s_executor_config.namespace', location: {...} } }
 */
export function explainConfig(resolved: ResolvedConfig): ExplainRow[] {
  return resolvedLeaves(resolved.config)
    .map(([path, value]) => {
      const origin = resolved.provenance[path] ?? { layer: 'built-in' as const };
      // The executor's own variables hold no secret: show them as they are.
      const shown =
        origin.layer === 'built-in'
          ? value
          : path.startsWith('container.env[')
            ? redactEnvItem(value)
            : redactNestedEnv(value);
      return { path, value: shown, origin };
    })
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

function redactEnvItem(item: unknown): unknown {
  if (typeof item !== 'object' || item === null || !('value' in item)) return item;
  return { ...item, value: '***' };
}

/** Env values inside a whole-list row (init containers, sidecars...): every `env[].value` at any depth. */
function redactNestedEnv(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactNestedEnv);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => [
      key,
      key === 'env' && Array.isArray(inner) ? inner.map(redactEnvItem) : redactNestedEnv(inner),
    ]),
  );
}
