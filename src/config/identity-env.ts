import type { JsonObject } from '../types/kube.js';
import { isPlainObject, type Tree } from './merge.js';
import { joinItem } from './paths.js';
import type { FieldOrigin } from './types.js';

/**
 * The environment every Job's main container gets (Metaflow's `METAFLOW_KUBERNETES_POD_NAME` and friends):
 * where the code runs, through the downward API, and a flag saying it runs under the executor. They are
 * built-in defaults (docs/configuration.md §8): any layer that sets a variable of the same name wins. They
 * come after the user's variables, as Metaflow orders them, so the user's list keeps its indexes.
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
} as const);

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
];

/** The env items that only the built-in layer set moved after the others (each list keeps its order). */
export function withBuiltInEnvLast(tree: Tree<FieldOrigin>): Tree<FieldOrigin> {
  const container = tree.value.container;
  if (!isPlainObject(container) || !Array.isArray(container.env)) return tree;
  const builtIn = (item: unknown) =>
    isPlainObject(item) &&
    typeof item.name === 'string' &&
    tree.origins.get(joinItem('container.env', item.name))?.layer === 'built-in';
  const env = [...container.env.filter((i) => !builtIn(i)), ...container.env.filter(builtIn)];
  return { value: { ...tree.value, container: { ...container, env } }, origins: tree.origins };
}
