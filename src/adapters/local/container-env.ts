import type { Container } from '../../types/kube.js';

/** The environment of a local container, and the settings that could not be honoured. */
export interface LocalContainerEnv {
  /** Variables to start the process with. */
  env: Record<string, string>;
  /** The container's own variables, which `$(NAME)` in `command` and `args` may use. */
  containerVars: Record<string, string>;
  /** One sentence per ignored entry (`valueFrom`, `envFrom`): they become warning events on the pod. */
  skipped: string[];
}

/**
 * Builds a local container's environment: `base` (PATH, HOME, the caller's extra variables, HOSTNAME),
 * then the container's `env` entries that have a `value`, in order, with `$(NAME)` references expanded as
 * the kubelet does. Entries with `valueFrom` and every `envFrom` source are skipped: there are no
 * Secrets, ConfigMaps or field refs locally.
 */
export function containerEnv(
  container: Container,
  base: Readonly<Record<string, string>>,
): LocalContainerEnv {
  const env: Record<string, string> = { ...base };
  const defined: Record<string, string> = {};
  const skipped: string[] = [];
  for (const entry of container.env ?? []) {
    const name = typeof entry.name === 'string' ? entry.name : undefined;
    if (!name) continue;
    if (entry.valueFrom !== undefined) {
      skipped.push(`env ${name} uses valueFrom, which the local backend cannot resolve: it is not set.`);
      continue;
    }
    const value = expandReferences(typeof entry.value === 'string' ? entry.value : '', defined);
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
