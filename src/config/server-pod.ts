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
 * (even to `null`). The service account, affinity and resources are never inherited.
 */
export function serverPodLayer(
  serverPod: ServerPod,
  isSetAbove: (podField: string) => boolean,
): Tree<FieldOrigin> {
  const { pod, containerName } = serverPod;
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

/** Drops the inherited volumes that no final volumeMount uses; volumes set by config always stay. */
export function dropUnusedInheritedVolumes(tree: Tree<FieldOrigin>): Tree<FieldOrigin> {
  const pod = tree.value.pod;
  const container = tree.value.container;
  if (!isPlainObject(pod) || !Array.isArray(pod.volumes)) return tree;
  const mounts =
    isPlainObject(container) && Array.isArray(container.volumeMounts) ? container.volumeMounts : [];
  const used = new Set(mounts.map((m) => (isPlainObject(m) ? m.name : undefined)));
  const origins = new Map(tree.origins);
  const volumes = pod.volumes.filter((volume) => {
    const name = isPlainObject(volume) && typeof volume.name === 'string' ? volume.name : undefined;
    if (name === undefined || used.has(name)) return true;
    const path = joinItem('pod.volumes', name);
    if (origins.get(path)?.layer !== 'server-pod') return true;
    dropOrigins(origins, path);
    return false;
  });
  return { value: { ...tree.value, pod: { ...pod, volumes } }, origins };
}
