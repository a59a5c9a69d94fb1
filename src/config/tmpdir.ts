import { isPlainObject, recordOrigins, type Tree } from './merge.js';
import { joinItem } from './paths.js';
import { TMPFS_VOLUME } from './shorthands.js';
import type { FieldOrigin } from './types.js';

/** The variable that points programs (Python's `tempfile`, `mktemp`, ...) at the temp dir. */
export const TMPDIR = 'TMPDIR';

/**
 * With `use_tmpfs` (the memory-backed volume `tmpfs` mounted in the container) and `tmpfs_tempdir` not
 * false, `TMPDIR` points at the mount, as Metaflow sets `METAFLOW_TEMPDIR` to `tmpfs_path`; unless a layer
 * (the server pod included) sets `TMPDIR` itself. The variable gets the origin of the mount and comes after
 * the user's variables.
 */
export function withTmpdir(tree: Tree<FieldOrigin>): Tree<FieldOrigin> {
  const { value } = tree;
  if (value.tmpfsTempdir === false) return tree;
  const container = isPlainObject(value.container) ? value.container : {};
  const volumes = isPlainObject(value.pod) && Array.isArray(value.pod.volumes) ? value.pod.volumes : [];
  const isTmpfs = volumes.some(
    (v) =>
      isPlainObject(v) &&
      v.name === TMPFS_VOLUME &&
      isPlainObject(v.emptyDir) &&
      v.emptyDir.medium === 'Memory',
  );
  const mounts = Array.isArray(container.volumeMounts) ? container.volumeMounts : [];
  const mount = mounts.find((m) => isPlainObject(m) && m.name === TMPFS_VOLUME);
  if (!isTmpfs || !isPlainObject(mount) || typeof mount.mountPath !== 'string') return tree;
  const env = Array.isArray(container.env) ? container.env : [];
  if (env.some((item) => isPlainObject(item) && item.name === TMPDIR)) return tree;
  const origin = tree.origins.get(joinItem('container.volumeMounts', mount.mountPath));
  const item = { name: TMPDIR, value: mount.mountPath };
  const withItem = [...env, item];
  const origins = new Map(tree.origins);
  if (origin) recordOrigins(joinItem('container.env', TMPDIR), item, origin, origins);
  return { value: { ...value, container: { ...container, env: withItem } }, origins };
}
