import { hostname } from 'node:os';
import type { Container, Pod } from '../../types/kube.js';

/** The environment of a local container, and the settings that could not be honoured. */
export interface LocalContainerEnv {
  /** Variables to start the process with. */
  env: Record<string, string>;
  /** The container's own variables, which `$(NAME)` in `command` and `args` may use. */
  containerVars: Record<string, string>;
  /** One sentence per ignored entry (`valueFrom`, `envFrom`): they become warning events on the pod. */
  skipped: string[];
}

/** The pod fields a local process can be told about (what the downward API would give it). */
export type LocalPodFields = Pick<Pod, 'metadata' | 'spec'>;

/**
 * Builds a local container's environment: `base` (PATH, HOME, the caller's extra variables, HOSTNAME),
 * then the container's `env` entries that have a `value`, in order, with `$(NAME)` references expanded as
 * the kubelet does. A `valueFrom.fieldRef` to the pod's name, namespace, uid, node, service account or IPs
 * is resolved from `pod` (the node is this machine, both IPs 127.0.0.1), as the downward API would; other
 * `valueFrom` entries and every `envFrom` source are skipped: there are no Secrets or ConfigMaps locally.
 */
export function containerEnv(
  container: Container,
  base: Readonly<Record<string, string>>,
  pod?: LocalPodFields,
): LocalContainerEnv {
  const env: Record<string, string> = { ...base };
  const defined: Record<string, string> = {};
  const skipped: string[] = [];
  for (const entry of container.env ?? []) {
    const name = typeof entry.name === 'string' ? entry.name : undefined;
    if (!name) continue;
    const downward = entry.valueFrom !== undefined && pod ? downwardValue(entry.valueFrom, pod) : undefined;
    if (entry.valueFrom !== undefined && downward === undefined) {
      skipped.push(`env ${name} uses valueFrom, which the local backend cannot resolve: it is not set.`);
      continue;
    }
    const value = downward ?? expandReferences(typeof entry.value === 'string' ? entry.value : '', defined);
    defined[name] = value;
    env[name] = value;
  }
  for (const source of container.envFrom ?? []) {
    const ref = (source.secretRef ?? source.configMapRef) as { name?: string } | undefined;
    skipped.push(
      `envFrom ${ref?.name ?? '(unnamed)'} is ignored by the local backend: its variables are not set.`,
    );
  }
  return { env, containerVars: defined, skipped };
}

/** The value of a downward-API `fieldRef` for a local pod, or undefined for anything else. */
function downwardValue(valueFrom: unknown, pod: LocalPodFields): string | undefined {
  const path = (valueFrom as { fieldRef?: { fieldPath?: unknown } } | undefined)?.fieldRef?.fieldPath;
  switch (path) {
    case 'metadata.name':
      return pod.metadata.name ?? '';
    case 'metadata.namespace':
      return pod.metadata.namespace ?? 'default';
    case 'metadata.uid':
      return pod.metadata.uid ?? '';
    case 'spec.nodeName':
      return (pod.spec as { nodeName?: string } | undefined)?.nodeName ?? hostname();
    case 'spec.serviceAccountName':
      return (pod.spec as { serviceAccountName?: string } | undefined)?.serviceAccountName ?? 'default';
    case 'status.hostIP':
    case 'status.podIP':
      return '127.0.0.1';
    default:
      return undefined;
  }
}

/**
 * Expands `$(NAME)` with the variables defined so far; `$$(NAME)` stays `$(NAME)`; unknown names stay
 * as they are. The same rules as `command`, `args` and `env` values in Kubernetes.
 */
export function expandReferences(text: string, vars: Readonly<Record<string, string>>): string {
  return text.replace(/\$\$\(|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (match, name: string | undefined) => {
    if (name === undefined) return '$(';
    return Object.hasOwn(vars, name) ? vars[name]! : match;
  });
}
