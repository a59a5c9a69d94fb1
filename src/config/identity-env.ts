import type { JsonObject } from '../types/kube.js';
import { isPlainObject, recordOrigins, type Tree } from './merge.js';
import { joinItem } from './paths.js';
import type { FieldOrigin } from './types.js';

/**
 * The environment every Job's main container gets (Metaflow's `METAFLOW_KUBERNETES_POD_NAME` and friends):
 * where the code runs, through the downward API, and a flag saying it runs under the executor. They are
 * built-in defaults (docs/configuration.md §8): any layer that sets a variable of the same name wins. They
 * are added after the merge, after the user's variables (as Metaflow orders them), so the user's list keeps
 * its order and indexes.
 */
export const POD_IDENTITY_ENV_NAMES = Object.freeze({
  /** `"1"`: the code runs in a Job made by k8s-executor. */
  flag: 'K8S_EXECUTOR',
  /** The pod's name (`metadata.name`). */
  podName: 'K8S_EXECUTOR_POD_NAME',
  /** The pod's namespace (`metadata.namespace`). */
  podNamespace: 'K8S_EXECUTOR_POD_NAMESPACE',
  /** The pod's uid (`metadata.uid`). */
  podUid: 'K8S_EXECUTOR_POD_UID',
  /** The node the pod runs on (`spec.nodeName`). */
  nodeName: 'K8S_EXECUTOR_NODE_NAME',
  /** That node's IP (`status.hostIP`). */
  nodeIp: 'K8S_EXECUTOR_NODE_IP',
  /** The pod's service account (`spec.serviceAccountName`). */
  serviceAccount: 'K8S_EXECUTOR_SERVICE_ACCOUNT',
  /**
   * Where to write the block's result (the container's `terminationMessagePath`, `/dev/termination-log` by
   * default): a small JSON document written there comes back as the block's `output` (docs/runtime.md).
   * The local backend points it at a file of each process's own.
   */
  terminationMessagePath: 'K8S_EXECUTOR_TERMINATION_MESSAGE_PATH',
} as const);

/** Kubernetes' default `terminationMessagePath`. */
const DEFAULT_TERMINATION_MESSAGE_PATH = '/dev/termination-log';

const fieldRef = (name: string, fieldPath: string): JsonObject => ({
  name,
  valueFrom: { fieldRef: { fieldPath } },
});

/** The env items of {@link POD_IDENTITY_ENV_NAMES}, in that order. */
export const POD_IDENTITY_ENV: readonly JsonObject[] = [
  { name: POD_IDENTITY_ENV_NAMES.flag, value: '1' },
  fieldRef(POD_IDENTITY_ENV_NAMES.podName, 'metadata.name'),
  fieldRef(POD_IDENTITY_ENV_NAMES.podNamespace, 'metadata.namespace'),
  fieldRef(POD_IDENTITY_ENV_NAMES.podUid, 'metadata.uid'),
  fieldRef(POD_IDENTITY_ENV_NAMES.nodeName, 'spec.nodeName'),
  fieldRef(POD_IDENTITY_ENV_NAMES.nodeIp, 'status.hostIP'),
  fieldRef(POD_IDENTITY_ENV_NAMES.serviceAccount, 'spec.serviceAccountName'),
  { name: POD_IDENTITY_ENV_NAMES.terminationMessagePath, value: DEFAULT_TERMINATION_MESSAGE_PATH },
];

/**
 * Adds the {@link POD_IDENTITY_ENV} variables that no layer set after the others, with the built-in
 * origin; a variable of the same name set by a layer (the server pod included) is left as it is.
 */
export function withPodIdentityEnv(tree: Tree<FieldOrigin>): Tree<FieldOrigin> {
  const container = isPlainObject(tree.value.container) ? tree.value.container : {};
  const env = Array.isArray(container.env) ? container.env : [];
  const set = new Set(env.flatMap((item) => (isPlainObject(item) ? [item.name] : [])));
  // The result file's variable names the container's own path when the config moved it.
  const messagePath = container.terminationMessagePath;
  const added = POD_IDENTITY_ENV.filter((item) => !set.has(item.name)).map((item) =>
    item.name === POD_IDENTITY_ENV_NAMES.terminationMessagePath && typeof messagePath === 'string'
      ? { name: item.name, value: messagePath }
      : structuredClone(item),
  );
  if (added.length === 0) return tree;
  const origins = new Map(tree.origins);
  for (const item of added)
    recordOrigins(joinItem('container.env', String(item.name)), item, { layer: 'built-in' }, origins);
  return { value: { ...tree.value, container: { ...container, env: [...env, ...added] } }, origins };
}
