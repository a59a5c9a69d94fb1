import { existsSync, readFileSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import { delimiter, join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { K8sExecutorError } from '../../errors/base.js';

/** Where Kubernetes mounts a pod's service account token, CA and namespace. */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** Where to look for cluster credentials. */
export interface KubeconfigOptions {
  /** A kubeconfig file to use instead of `KUBECONFIG` / `~/.kube/config` / in-cluster. */
  kubeconfigPath?: string;
  /** The context to use instead of the kubeconfig's `current-context`. */
  context?: string;
  /** The environment (`KUBECONFIG`, `HOME`, `KUBERNETES_SERVICE_HOST`/`_PORT`). @default process.env */
  env?: Readonly<Record<string, string | undefined>>;
  /** The service account mount of in-cluster runs. @default "/var/run/secrets/kubernetes.io/serviceaccount" */
  serviceAccountDir?: string;
}

/** A loaded kubeconfig and what it says about defaults. */
export interface LoadedKubeconfig {
  /** The client-node kubeconfig, with the chosen context current. */
  kubeConfig: KubeConfig;
  /** The current context's namespace, else the in-cluster namespace file, else `default`. */
  defaultNamespace: string;
  /** Where the credentials came from, for messages: a file list or `in-cluster service account`. */
  source: string;
}

/**
 * Loads cluster credentials: the explicit `kubeconfigPath`, else the files of `KUBECONFIG` (merged, as
 * kubectl does), else `~/.kube/config`, else the in-cluster service account. Unlike client-node's
 * `loadFromDefault`, it never falls back to `http://localhost:8080`.
 *
 * @throws K8sExecutorError `NO_CLUSTER` when nothing is found, a file cannot be read, or the context
 *   does not exist; the message lists what was looked for and how to fix it.
 * @example
 * const { kubeConfig, defaultNamespace } = loadKubeconfig({ context: 'staging' });
 */
export function loadKubeconfig(options: KubeconfigOptions = {}): LoadedKubeconfig {
  const env = options.env ?? process.env;
  const saDir = options.serviceAccountDir ?? SERVICE_ACCOUNT_DIR;
  const inClusterNamespace = readServiceAccountNamespace(saDir);
  const files = candidateFiles(options.kubeconfigPath, env);

  let loaded: { kubeConfig: KubeConfig; source: string };
  if (files.length > 0) {
    loaded = { kubeConfig: loadFiles(files), source: files.join(delimiter) };
  } else {
    const inCluster = loadInCluster(env, saDir, inClusterNamespace);
    if (!inCluster) throw noCluster(env, saDir);
    loaded = { kubeConfig: inCluster, source: 'in-cluster service account' };
  }

  const { kubeConfig, source } = loaded;
  if (options.context !== undefined) {
    if (!kubeConfig.getContextObject(options.context)) {
      const known = kubeConfig.getContexts().map((c) => c.name);
      throw new K8sExecutorError(
        'NO_CLUSTER',
        `The kubeconfig context "${options.context}" does not exist in ${source}. ` +
          `Known contexts: ${known.length > 0 ? known.join(', ') : '(none)'}. Pick one of them ` +
          '(kubectl config get-contexts) or leave the context option out to use the current one.',
      );
    }
    kubeConfig.setCurrentContext(options.context);
  }
  if (!kubeConfig.getCurrentCluster()) {
    throw new K8sExecutorError(
      'NO_CLUSTER',
      `The kubeconfig ${source} has no usable current context (current-context "${kubeConfig.getCurrentContext() ?? ''}" ` +
        'names no cluster). Set one with "kubectl config use-context NAME" or pass the context option.',
    );
  }
  const contextNamespace = kubeConfig.getContextObject(kubeConfig.getCurrentContext())?.namespace;
  return { kubeConfig, defaultNamespace: contextNamespace || inClusterNamespace || 'default', source };
}

/** The kubeconfig files to read, in kubectl's order; an explicit path is returned even when missing. */
function candidateFiles(
  explicit: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): string[] {
  if (explicit !== undefined) {
    if (!existsSync(explicit)) {
      throw new K8sExecutorError(
        'NO_CLUSTER',
        `The kubeconfig file "${explicit}" does not exist. Pass the path of an existing kubeconfig, ` +
          'or leave the option out to use KUBECONFIG, ~/.kube/config or the in-cluster service account.',
      );
    }
    return [explicit];
  }
  const fromEnv = (env.KUBECONFIG ?? '').split(delimiter).filter((f) => f !== '' && existsSync(f));
  if (fromEnv.length > 0) return fromEnv;
  const home = env.HOME ?? env.USERPROFILE;
  const defaultFile = home ? join(home, '.kube', 'config') : undefined;
  return defaultFile && existsSync(defaultFile) ? [defaultFile] : [];
}

function loadFiles(files: readonly string[]): KubeConfig {
  const [first, ...rest] = files.map(loadFile);
  for (const other of rest) first!.mergeConfig(other, true);
  return first!;
}

function loadFile(file: string): KubeConfig {
  const kubeConfig = new KubeConfig();
  try {
    kubeConfig.loadFromFile(file);
  } catch (e) {
    // The parser's message may quote the file (tokens included): keep only where it failed.
    const line = (e as { mark?: { line?: number } }).mark?.line;
    throw new K8sExecutorError(
      'NO_CLUSTER',
      `The kubeconfig file "${file}" could not be read${line !== undefined ? ` (YAML error at line ${line + 1})` : ''}. ` +
        'Check it with "kubectl config view --kubeconfig FILE".',
    );
  }
  return kubeConfig;
}

/** The in-cluster config when the pod's env and service account token are there, as client-go does it. */
function loadInCluster(
  env: Readonly<Record<string, string | undefined>>,
  saDir: string,
  namespace: string | undefined,
): KubeConfig | undefined {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  const tokenFile = join(saDir, 'token');
  if (!host || !port || !existsSync(tokenFile)) return undefined;
  const server = `https://${isIPv6(host) ? `[${host}]` : host}:${port}`;
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'in-cluster', server, caFile: join(saDir, 'ca.crt'), skipTLSVerify: false }],
    // client-node's tokenFile provider re-reads the (rotated) token every minute.
    users: [{ name: 'in-cluster', authProvider: { name: 'tokenFile', config: { tokenFile } } }],
    contexts: [
      { name: 'in-cluster', cluster: 'in-cluster', user: 'in-cluster', ...(namespace ? { namespace } : {}) },
    ],
    currentContext: 'in-cluster',
  });
  return kubeConfig;
}

function noCluster(env: Readonly<Record<string, string | undefined>>, saDir: string): K8sExecutorError {
  const home = env.HOME ?? env.USERPROFILE;
  const looked = [
    env.KUBECONFIG ? `KUBECONFIG=${env.KUBECONFIG} (no such file)` : 'KUBECONFIG (not set)',
    home ? `${join(home, '.kube', 'config')} (no such file)` : '~/.kube/config (HOME not set)',
    env.KUBERNETES_SERVICE_HOST
      ? `in-cluster service account (${join(saDir, 'token')} missing)`
      : 'in-cluster service account (KUBERNETES_SERVICE_HOST not set)',
  ];
  return new K8sExecutorError(
    'NO_CLUSTER',
    `No Kubernetes cluster configured: looked for ${looked.join(', ')}. Point KUBECONFIG at a kubeconfig ` +
      '(or pass its path), run inside a pod with a service account, or use the local backend (run --local).',
  );
}

/** The namespace file of a service account mount, trimmed; undefined when absent or empty. */
export function readServiceAccountNamespace(
  serviceAccountDir: string = SERVICE_ACCOUNT_DIR,
): string | undefined {
  try {
    return readFileSync(join(serviceAccountDir, 'namespace'), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}
