import type { ServerPod } from '../ports/pod-introspector.js';
import type { JsonObject } from '../types/kube.js';
import { dropOrigins, isPlainObject, recordOrigins, type Tree } from './merge.js';
import { joinItem } from './paths.js';
import type { FieldOrigin } from './types.js';

/** Pod fields inherited only where the config leaves them unset (as Mage does). */
const INHERITED_IF_UNSET = ['tolerations', 'nodeSelector', 'schedulerName', 'imagePullSecrets'] as const;

/** The service-account token mount: the Job's pod gets its own, for its own service account. */
const SERVICE_ACCOUNT_MOUNT = '/var/run/secrets/kubernetes.io/serviceaccount';

/**
 * The layer inherited from the pod this process runs in: the image, env, envFrom and volumeMounts of
 * its container (merged under the config's by the usual rules), all its volumes (unused ones are
 * dropped after the merge, see {@link dropUnusedInheritedVolumes}), and tolerations, nodeSelector,
 * schedulerName and imagePullSecrets unless `isSetAbove(field)` says a higher layer sets that field
 * (`!remove` included; an empty value is not set). The service account, affinity and resources are never
 * inherited.
 */
export function serverPodLayer(
  serverPod: ServerPod,
  isSetAbove: (podField: string) => boolean,
): Tree<FieldOrigin> {
  // A plain JSON copy: the pod may come as client-node model instances.
  const pod = JSON.parse(JSON.stringify(serverPod.pod)) as ServerPod['pod'];
  const { containerName } = serverPod;
  const containers = pod.spec?.containers ?? [];
  const source = containers.find((c) => c.name === containerName) ?? containers[0];
  const podName = pod.metadata.name ?? 'server-pod';
  const container: JsonObject = {};
  if (source?.image) container.image = source.image;
  if (source?.env?.length) container.env = source.env;
  if (source?.envFrom?.length) container.envFrom = source.envFrom;
  const mounts = (source?.volumeMounts ?? []).filter(
    (m) => typeof m.mountPath !== 'string' || !m.mountPath.startsWith(SERVICE_ACCOUNT_MOUNT),
  );
  if (mounts.length) container.volumeMounts = mounts;
  const podFields: JsonObject = {};
  if (pod.spec?.volumes?.length) podFields.volumes = pod.spec.volumes;
  for (const field of INHERITED_IF_UNSET) {
    const value = pod.spec?.[field];
    const present = Array.isArray(value)
      ? value.length > 0
      : isPlainObject(value)
        ? Object.keys(value).length > 0
        : !!value;
    if (present && !isSetAbove(field)) podFields[field] = value;
  }
  const value: JsonObject = {};
  if (Object.keys(container).length) value.container = container;
  if (Object.keys(podFields).length) value.pod = podFields;
  const origins = new Map<string, FieldOrigin>();
  const from = (path: string): FieldOrigin => ({ layer: 'server-pod', sourcePath: `pod/${podName}:${path}` });
  for (const [key, child] of Object.entries(container)) {
    recordOrigins(`container.${key}`, child, from(`spec.containers[${source?.name ?? 0}].${key}`), origins);
  }
  for (const [key, child] of Object.entries(podFields))
    recordOrigins(`pod.${key}`, child, from(`spec.${key}`), origins);
  return { value, origins };
}

/**
 * Makes inherited volumes and mounts agree after the merge, so that removing one removes the other:
 * inherited mounts whose volume is gone (`pod: {volumes: !remove}`) are dropped, then inherited volumes that
 * no final mount uses. Volumes and mounts set by config always stay (a config mount without its volume is
 * a validation error).
 */
export function reconcileInheritedVolumes(tree: Tree<FieldOrigin>): Tree<FieldOrigin> {
  const pod = isPlainObject(tree.value.pod) ? tree.value.pod : {};
  const container = isPlainObject(tree.value.container) ? tree.value.container : {};
  const volumes = Array.isArray(pod.volumes) ? pod.volumes : [];
  const mounts = Array.isArray(container.volumeMounts) ? container.volumeMounts : [];
  if (volumes.length === 0 && mounts.length === 0) return tree;
  const origins = new Map(tree.origins);
  const inherited = (path: string) => origins.get(path)?.layer === 'server-pod';
  const nameOf = (item: unknown) =>
    isPlainObject(item) && typeof item.name === 'string' ? item.name : undefined;
  const defined = new Set(volumes.map(nameOf));
  const keptMounts = mounts.filter((mount) => {
    const path = joinItem('container.volumeMounts', String(isPlainObject(mount) ? mount.mountPath : ''));
    if (defined.has(nameOf(mount)) || !inherited(path)) return true;
    dropOrigins(origins, path);
    return false;
  });
  const used = new Set(keptMounts.map(nameOf));
  const keptVolumes = volumes.filter((volume) => {
    const name = nameOf(volume);
    const path = joinItem('pod.volumes', name ?? '');
    if (name === undefined || used.has(name) || !inherited(path)) return true;
    dropOrigins(origins, path);
    return false;
  });
  const value: JsonObject = { ...tree.value };
  if (Array.isArray(pod.volumes)) value.pod = { ...pod, volumes: keptVolumes };
  if (Array.isArray(container.volumeMounts)) value.container = { ...container, volumeMounts: keptMounts };
  return { value, origins };
}
