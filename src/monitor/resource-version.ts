/**
 * True when resourceVersion `a` is known to be newer than `b`. Versions are opaque to clients; the API
 * server's are integers (etcd revisions), so they are compared as such when both are, and otherwise
 * never called newer.
 */
export function isNewerVersion(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b || !/^\d+$/.test(a) || !/^\d+$/.test(b)) return false;
  return BigInt(a) > BigInt(b);
}
