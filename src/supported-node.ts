/** The oldest Node this package runs on, as `engines.node` in package.json says (`>=22.19`). */
export const MIN_NODE_VERSION = '22.19.0';

/**
 * The one-line reason the given Node cannot run this package, or undefined when it can. Older Nodes
 * fail deep inside dependencies (undici needs `zlib.createZstdDecompress`), so entry points check first.
 *
 * @example
 * unsupportedNodeMessage('20.20.2'); // 'k8s-executor needs Node >= 22.19; this is v20.20.2'
 */
export function unsupportedNodeMessage(version: string = process.versions.node): string | undefined {
  const have = version.replace(/^v/, '').split('.').map(Number);
  const need = MIN_NODE_VERSION.split('.').map(Number);
  for (let i = 0; i < need.length; i++) {
    const a = have[i] ?? 0;
    const b = need[i]!;
    if (Number.isNaN(a) || a > b) return undefined;
    if (a < b)
      return `k8s-executor needs Node >= ${need.slice(0, 2).join('.')}; this is v${version.replace(/^v/, '')}`;
  }
  return undefined;
}
