import type { ObjectSummary, PersistentVolumeClaim, StoredKeys } from '../ports/cluster-inspector.js';
import { notChecked, type Read } from './reads.js';
import type { ClaimReference, KeyedReference } from './references.js';
import type { Finding } from './types.js';

/** The `namespace` finding. */
export function checkNamespace(namespace: string, read: Read<ObjectSummary | undefined>): Finding {
  const what = `namespace "${namespace}"`;
  if (!read.ok) return notChecked('namespace', what, read.error);
  if (read.value) return { check: 'namespace', status: 'ok', message: `${what} exists.` };
  return {
    check: 'namespace',
    status: 'fail',
    message: `${what} does not exist: creating the Job would fail (404).`,
    fix: `create it (kubectl create namespace ${namespace}), or set \`namespace\` in the executor config to an existing one.`,
  };
}

/** The `service-account` finding. */
export function checkServiceAccount(
  namespace: string,
  name: string,
  read: Read<ObjectSummary | undefined>,
): Finding {
  const what = `ServiceAccount "${name}" in namespace "${namespace}"`;
  if (!read.ok) return notChecked('service-account', what, read.error);
  if (read.value) return { check: 'service-account', status: 'ok', message: `${what} exists.` };
  return {
    check: 'service-account',
    status: 'fail',
    message:
      `${what} does not exist: the Job would be created but never get a pod (the Job controller's ` +
      '"error looking up service account"), and the block fails with POD_CREATE_FAILED.',
    fix: `create it (kubectl create serviceaccount ${name} -n ${namespace}), or set \`service_account_name\` to an existing one.`,
  };
}

/**
 * The `secret` or `configmap` findings: one per object referenced. A missing object (or key) fails
 * unless every reference to it is optional, in which case it is a warning (the pod starts without it).
 */
export function checkKeyedObjects(
  namespace: string,
  references: readonly KeyedReference[],
  reads: ReadonlyMap<string, Read<StoredKeys | undefined>>,
): Finding[] {
  const byName = new Map<string, KeyedReference[]>();
  for (const ref of references) byName.set(ref.name, [...(byName.get(ref.name) ?? []), ref]);
  return [...byName].map(([name, refs]) => {
    const kind = refs[0]!.kind;
    const check = kind === 'Secret' ? 'secret' : 'configmap';
    const what = `${kind} "${name}" in namespace "${namespace}"`;
    const read = reads.get(name) ?? { ok: false, error: new Error('it was not read') };
    if (!read.ok) return notChecked(check, what, read.error);
    const required = refs.filter((r) => !r.optional);
    const whereOf = (list: readonly KeyedReference[]) => [...new Set(list.map((r) => r.where))].join(', ');
    if (!read.value) {
      if (required.length === 0)
        return {
          check,
          status: 'warn',
          message: `${what} does not exist; every reference to it is optional (${whereOf(refs)}), so the pod starts without it.`,
        };
      return {
        check,
        status: 'fail',
        message: `${what} does not exist (used by ${whereOf(required)}): ${consequence(required)}.`,
        fix: `create it in namespace "${namespace}", or fix the name in the executor config.`,
      };
    }
    const have = new Set(read.value.keys);
    const missing = refs.flatMap((r) => r.keys.filter((k) => !have.has(k)).map((key) => ({ key, ref: r })));
    const missingRequired = missing.filter((m) => !m.ref.optional);
    const present = read.value.keys.length > 0 ? read.value.keys.join(', ') : 'none';
    if (missingRequired.length > 0) {
      const keys = [...new Set(missingRequired.map((m) => `"${m.key}"`))].join(', ');
      return {
        check,
        status: 'fail',
        message: `${what} has no key ${keys} (used by ${whereOf(missingRequired.map((m) => m.ref))}; its keys: ${present}): ${consequence(missingRequired.map((m) => m.ref))}.`,
        fix: `add the key to the ${kind}, or fix the key in the executor config.`,
      };
    }
    if (missing.length > 0) {
      const keys = [...new Set(missing.map((m) => `"${m.key}"`))].join(', ');
      return {
        check,
        status: 'warn',
        message: `${what} has no key ${keys}; the references to it are optional, so the pod starts without it.`,
      };
    }
    return { check, status: 'ok', message: `${what} exists${keysNote(refs)}.` };
  });
}

/** The `image-pull-secret` findings: a missing one is a warning (the kubelet pulls without it). */
export function checkImagePullSecrets(
  namespace: string,
  names: readonly string[],
  reads: ReadonlyMap<string, Read<StoredKeys | undefined>>,
): Finding[] {
  return names.map((name) => {
    const what = `image pull Secret "${name}" in namespace "${namespace}"`;
    const read = reads.get(name) ?? { ok: false, error: new Error('it was not read') };
    if (!read.ok) return notChecked('image-pull-secret', what, read.error);
    if (!read.value)
      return {
        check: 'image-pull-secret',
        status: 'warn',
        message:
          `${what} does not exist: the kubelet pulls the image without it, which a private registry ` +
          'refuses (the block would fail with IMAGE_PULL_FAILED).',
        fix: `create it (kubectl create secret docker-registry ${name} -n ${namespace} ...), or remove it from image_pull_secrets.`,
      };
    const type = read.value.type;
    if (type !== 'kubernetes.io/dockerconfigjson' && type !== 'kubernetes.io/dockercfg')
      return {
        check: 'image-pull-secret',
        status: 'warn',
        message: `${what} is of type ${type ?? 'unknown'}, not kubernetes.io/dockerconfigjson: the kubelet does not use it to pull.`,
        fix: 'recreate it with kubectl create secret docker-registry.',
      };
    return { check: 'image-pull-secret', status: 'ok', message: `${what} exists (${type}).` };
  });
}

/**
 * The `pvc` findings, one per claim: missing or `Lost` fails, `Pending` warns (it may be waiting for
 * its first consumer), and a claim that other blocks of the run mount too warns unless its access modes
 * let several pods on several nodes use it (`ReadWriteMany`, or `ReadOnlyMany` for read-only mounts).
 *
 * @param sharedWith the other blocks of the run that mount each claim (by claim name), when any.
 */
export function checkClaims(
  namespace: string,
  claims: readonly ClaimReference[],
  reads: ReadonlyMap<string, Read<PersistentVolumeClaim | undefined>>,
  sharedWith: ReadonlyMap<string, readonly string[]> = new Map(),
): Finding[] {
  const names = [...new Set(claims.map((c) => c.name))];
  return names.map((name) => {
    const what = `PersistentVolumeClaim "${name}" in namespace "${namespace}"`;
    const read = reads.get(name) ?? { ok: false, error: new Error('it was not read') };
    if (!read.ok) return notChecked('pvc', what, read.error);
    const claim = read.value;
    if (!claim)
      return {
        check: 'pvc',
        status: 'fail',
        message: `${what} does not exist: the pod would stay Pending (persistentvolumeclaim "${name}" not found) and the block fails with UNSCHEDULABLE.`,
        fix: `create the claim in namespace "${namespace}", or fix persistent_volume_claims / the volume's claimName.`,
      };
    const phase = claim.status?.phase ?? 'Pending';
    if (phase === 'Lost')
      return {
        check: 'pvc',
        status: 'fail',
        message: `${what} is Lost (its PersistentVolume is gone): the pod cannot mount it.`,
        fix: 'recreate the claim (and its volume).',
      };
    const modes = claim.status?.accessModes ?? claim.spec?.accessModes ?? [];
    const others = sharedWith.get(name) ?? [];
    const readOnly = claims.filter((c) => c.name === name).every((c) => c.readOnly);
    const shareable = modes.includes('ReadWriteMany') || (readOnly && modes.includes('ReadOnlyMany'));
    if (others.length > 0 && !shareable) {
      const only = modes.includes('ReadWriteOncePod')
        ? 'only one pod at a time may use it'
        : 'pods on one node only may use it at once';
      return {
        check: 'pvc',
        status: 'warn',
        message: `${what} is ${modes.join(', ') || 'of no access mode'} and block${others.length === 1 ? '' : 's'} ${others.join(', ')} mount${others.length === 1 ? 's' : ''} it too: ${only}, so blocks that run at the same time may wait for each other (Pending).`,
        fix: 'use a ReadWriteMany claim for storage shared by blocks, or make the blocks depend on each other.',
      };
    }
    if (phase !== 'Bound')
      return {
        check: 'pvc',
        status: 'warn',
        message: `${what} is ${phase}, not Bound: the pod waits until it is (normal for a storage class with volumeBindingMode WaitForFirstConsumer).`,
        fix: `kubectl describe pvc ${name} -n ${namespace} says why it is not bound.`,
      };
    return {
      check: 'pvc',
      status: 'ok',
      message: `${what} is Bound (${modes.join(', ') || 'no access mode'}).`,
    };
  });
}

/** What the Job's pod does when a required reference is missing. */
function consequence(refs: readonly KeyedReference[]): string {
  return refs.some((r) => r.effect === 'env')
    ? 'the container would not start (CreateContainerConfigError) and the block fails with CONTAINER_CONFIG_ERROR'
    : 'the volume would not mount (FailedMount) and the pod stays in ContainerCreating';
}

/** `(keys a, b present)` when references name keys. */
function keysNote(refs: readonly KeyedReference[]): string {
  const keys = [...new Set(refs.flatMap((r) => r.keys))];
  return keys.length > 0
    ? ` with key${keys.length === 1 ? '' : 's'} ${keys.map((k) => `"${k}"`).join(', ')}`
    : '';
}
