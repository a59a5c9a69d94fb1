import type { JsonObject } from '../types/kube.js';
import { containerLabel, isObject, objectOf, objects, type PodView, stringOf } from './pod-spec.js';

/** How a missing Secret or ConfigMap shows up: a container that cannot start, or a volume that cannot mount. */
export type ReferenceEffect = 'env' | 'volume';

/** One place where the pod reads a Secret or a ConfigMap. */
export interface KeyedReference {
  /** The object's kind. */
  kind: 'Secret' | 'ConfigMap';
  /** Its name. */
  name: string;
  /** The keys read by this reference (env `valueFrom`, volume `items`); none = the whole object. */
  keys: readonly string[];
  /** `optional: true`: the pod starts without the object (or the key). */
  optional: boolean;
  /** What fails when it is missing. */
  effect: ReferenceEffect;
  /** Where: `env DB_PASSWORD of container "main"`, `volume "creds"`. */
  where: string;
}

/** One volume that mounts a PersistentVolumeClaim. */
export interface ClaimReference {
  /** The claim's name. */
  name: string;
  /** True when every mount of it (and the volume itself) is read-only. */
  readOnly: boolean;
  /** Where: `volume "data"`. */
  where: string;
}

/** Everything a Job's pod refers to by name, that must exist in its namespace. */
export interface JobReferences {
  /** The pod's service account. */
  serviceAccountName: string;
  /** Secrets read by env, envFrom, volumes and projected volumes. */
  secrets: KeyedReference[];
  /** ConfigMaps read the same ways. */
  configMaps: KeyedReference[];
  /** Claims mounted as volumes. */
  claims: ClaimReference[];
  /** `imagePullSecrets`. */
  imagePullSecrets: string[];
}

/**
 * Collects every object the pod refers to: env `valueFrom` (`secretKeyRef`, `configMapKeyRef`), `envFrom`,
 * `secret`, `configMap` and `persistentVolumeClaim` volumes, the `secret` and `configMap` sources of
 * projected volumes, `imagePullSecrets` and the service account. Secrets of volume plugins (CSI
 * `nodePublishSecretRef`, ...) are not collected (docs/preflight.md).
 */
export function collectReferences(pod: PodView): JobReferences {
  const secrets: KeyedReference[] = [];
  const configMaps: KeyedReference[] = [];
  const add = (kind: KeyedReference['kind'], ref: Omit<KeyedReference, 'kind'>) => {
    if (ref.name) (kind === 'Secret' ? secrets : configMaps).push({ kind, ...ref });
  };
  for (const container of pod.containers) {
    const of = containerLabel(container);
    for (const env of objects(container.raw.env)) {
      const from = objectOf(env.valueFrom);
      const where = `env ${String(env.name)} of ${of}`;
      for (const [field, kind] of KEY_REFS) {
        const ref = objectOf(from[field]);
        if (!isObject(from[field])) continue;
        add(kind, {
          name: stringOf(ref.name) ?? '',
          keys: stringOf(ref.key) ? [ref.key as string] : [],
          optional: ref.optional === true,
          effect: 'env',
          where,
        });
      }
    }
    for (const source of objects(container.raw.envFrom)) {
      for (const [field, kind] of ENV_FROM_REFS) {
        if (!isObject(source[field])) continue;
        const ref = source[field];
        add(kind, {
          name: stringOf(ref.name) ?? '',
          keys: [],
          optional: ref.optional === true,
          effect: 'env',
          where: `envFrom of ${of}`,
        });
      }
    }
  }
  const claims: ClaimReference[] = [];
  for (const volume of pod.volumes) {
    const where = `volume "${String(volume.name)}"`;
    const keyed = (kind: KeyedReference['kind'], ref: JsonObject, name: unknown, at: string) =>
      add(kind, {
        name: stringOf(name) ?? '',
        keys: objects(ref.items).flatMap((item) => stringOf(item.key) ?? []),
        optional: ref.optional === true,
        effect: 'volume',
        where: at,
      });
    if (isObject(volume.secret)) keyed('Secret', volume.secret, volume.secret.secretName, where);
    if (isObject(volume.configMap)) keyed('ConfigMap', volume.configMap, volume.configMap.name, where);
    for (const source of objects(objectOf(volume.projected).sources)) {
      if (isObject(source.secret)) keyed('Secret', source.secret, source.secret.name, `projected ${where}`);
      if (isObject(source.configMap))
        keyed('ConfigMap', source.configMap, source.configMap.name, `projected ${where}`);
    }
    const claim = objectOf(volume.persistentVolumeClaim);
    const claimName = stringOf(claim.claimName);
    if (claimName) {
      const mounts = pod.containers.flatMap((c) =>
        objects(c.raw.volumeMounts).filter((m) => m.name === volume.name),
      );
      claims.push({
        name: claimName,
        readOnly: claim.readOnly === true || (mounts.length > 0 && mounts.every((m) => m.readOnly === true)),
        where,
      });
    }
  }
  return {
    serviceAccountName: pod.serviceAccountName,
    secrets,
    configMaps,
    claims,
    imagePullSecrets: [...new Set(pod.imagePullSecrets)],
  };
}

const KEY_REFS = [
  ['secretKeyRef', 'Secret'],
  ['configMapKeyRef', 'ConfigMap'],
] as const;
const ENV_FROM_REFS = [
  ['secretRef', 'Secret'],
  ['configMapRef', 'ConfigMap'],
] as const;
