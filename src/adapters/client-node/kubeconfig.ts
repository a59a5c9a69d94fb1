import { existsSync, readFileSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import { delimiter, join } from 'node:path';
import { K8sExecutorError } from '../../errors/base.js';
import { type Clock, systemClock } from '../../ports/clock.js';
import { attachClientNode } from './client-node-config.js';
import { KubeConfig } from './client-node-values.js';
import { type ExecConfig, type RefreshedAuth, RefreshingAuthenticator } from './credentials.js';
import {
  isRecord,
  mergeKubeconfigs,
  type RawKubeconfig,
  readKubeconfigFile,
  section,
  stringField,
} from './kubeconfig-files.js';
import { proxyFromEnvironment } from './proxy-env.js';

/** Where Kubernetes mounts a pod's service account token, CA and namespace. */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** Where to look for cluster credentials. */
export interface KubeconfigOptions {
  /** A kubeconfig file to use instead of `KUBECONFIG` / `~/.kube/config` / in-cluster. */
  kubeconfigPath?: string;
  /** The context to use instead of the kubeconfig's `current-context`. */
  context?: string;
  /**
   * The environment (`KUBECONFIG`, `HOME`, `KUBERNETES_SERVICE_HOST`/`_PORT`, `HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY`).
   * @default process.env
   */
  env?: Readonly<Record<string, string | undefined>>;
  /** The service account mount of in-cluster runs. @default "/var/run/secrets/kubernetes.io/serviceaccount" */
  serviceAccountDir?: string;
  /** When token files are read again, exec credentials expire and exec plugin runs are stopped. @default systemClock */
  clock?: Clock;
  /**
   * An exec credential plugin still running after this long is killed (SIGTERM, then SIGKILL) and its
   * credential counts as unavailable (`API_UNAUTHORIZED`); the next request runs it again. A request
   * waits for a plugin only within its own time limit anyway. @default 30_000
   */
  execTimeoutMs?: number;
}

/**
 * A loaded kubeconfig: what it says about defaults, and (internally) the client-node configuration
 * the adapter sends requests with.
 */
export interface LoadedKubeconfig {
  /** The current context's namespace, else the in-cluster namespace file, else `default`. */
  readonly defaultNamespace: string;
  /** Where the credentials came from, for messages: a file list or `in-cluster service account`. */
  readonly source: string;
  /** The context in use. */
  readonly context: string;
  /** The API server URL of the context's cluster. */
  readonly server: string;
}

/**
 * Loads cluster credentials: the explicit `kubeconfigPath`, else the files of `KUBECONFIG` (merged as
 * kubectl merges them: the first file wins each name and the current context), else `~/.kube/config`,
 * else the in-cluster service account. Unlike client-node's `loadFromDefault`, it never falls back to
 * `http://localhost:8080`.
 *
 * On top of client-node: a user's `tokenFile` (client-go's spelling) or `token-file` is read again every
 * minute and after a 401, an exec plugin's credential is refreshed before it expires and after a 401
 * (see {@link RefreshingAuthenticator}), and a cluster without `proxy-url` uses the proxy that
 * `HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY` name for it, as kubectl does.
 *
 * @throws K8sExecutorError `NO_CLUSTER` when nothing is found, a file cannot be read, or the context
 *   does not exist; the message lists what was looked for and how to choose a kubeconfig or context.
 * @example
 * const { defaultNamespace, server } = loadKubeconfig({ context: 'staging' });
 */
export function loadKubeconfig(options: KubeconfigOptions = {}): LoadedKubeconfig {
  const env = options.env ?? process.env;
  const saDir = options.serviceAccountDir ?? SERVICE_ACCOUNT_DIR;
  const inClusterNamespace = readServiceAccountNamespace(saDir);
  const files = candidateFiles(options.kubeconfigPath, env);

  let raw: RawKubeconfig;
  let source: string;
  if (files.length > 0) {
    raw = mergeKubeconfigs(files.map(readKubeconfigFile));
    source = files.join(delimiter);
  } else {
    const inCluster = inClusterKubeconfig(env, saDir, inClusterNamespace);
    if (!inCluster) throw noCluster(env, saDir);
    raw = inCluster;
    source = 'in-cluster service account';
  }

  const contextNames = raw.contexts.map((c) => c.name).filter((n): n is string => typeof n === 'string');
  if (options.context !== undefined && !contextNames.includes(options.context)) {
    throw new K8sExecutorError(
      'NO_CLUSTER',
      `The kubeconfig context "${options.context}" does not exist in ${source}. ` +
        `Known contexts: ${contextNames.length > 0 ? contextNames.join(', ') : '(none)'}. Choose one of them ` +
        '(the `context` option, `--context` in the CLI; "kubectl config get-contexts" lists them) or leave ' +
        'it out to use the current context.',
    );
  }
  const auth = takeRefreshedAuth(raw);
  useProxyEnvironment(raw, env);
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromString(JSON.stringify(raw));
  const context = options.context ?? raw['current-context'] ?? '';
  kubeConfig.setCurrentContext(context);
  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster) {
    throw new K8sExecutorError(
      'NO_CLUSTER',
      `The kubeconfig ${source} has no usable current context (current-context "${context}" names no cluster). ` +
        'Set one with "kubectl config use-context NAME" or choose a context (the `context` option, ' +
        '`--context` in the CLI).',
    );
  }
  const authenticator = new RefreshingAuthenticator(auth, {
    clock: options.clock ?? systemClock,
    ...(options.execTimeoutMs !== undefined ? { execTimeoutMs: options.execTimeoutMs } : {}),
  });
  kubeConfig.addAuthenticator(authenticator);
  const contextNamespace = kubeConfig.getContextObject(context)?.namespace;
  const loaded: LoadedKubeconfig = Object.freeze({
    defaultNamespace: contextNamespace || inClusterNamespace || 'default',
    source,
    context,
    server: cluster.server,
  });
  attachClientNode(loaded, { kubeConfig, authenticator });
  return loaded;
}

/**
 * Takes the credentials the adapter refreshes out of the users (so client-node's own authenticators
 * leave them alone): an `exec` plugin, and a `tokenFile`/`token-file` (which then wins over a static
 * `token`, kept as the fallback while the file cannot be read, as in client-go). A user with an
 * `auth-provider` keeps client-node's handling.
 */
function takeRefreshedAuth(raw: RawKubeconfig): Map<string, RefreshedAuth> {
  const auth = new Map<string, RefreshedAuth>();
  for (const entry of raw.users) {
    const user = section(entry, 'user');
    if (!user || typeof entry.name !== 'string') continue;
    const tokenFile = stringField(user, 'tokenFile') ?? stringField(user, 'token-file');
    delete user.tokenFile;
    delete user['token-file'];
    if (isRecord(user.exec)) {
      auth.set(entry.name, { kind: 'exec', exec: user.exec as unknown as ExecConfig });
      delete user.exec;
    } else if (tokenFile && user['auth-provider'] === undefined) {
      const fallbackToken = stringField(user, 'token');
      delete user.token;
      auth.set(entry.name, {
        kind: 'tokenFile',
        path: tokenFile,
        ...(fallbackToken ? { fallbackToken } : {}),
      });
    }
  }
  return auth;
}

/** Sets `proxy-url` of every cluster without one to the proxy the environment names for its server. */
function useProxyEnvironment(raw: RawKubeconfig, env: Readonly<Record<string, string | undefined>>): void {
  for (const entry of raw.clusters) {
    const cluster = section(entry, 'cluster');
    const server = cluster && stringField(cluster, 'server');
    if (!cluster || !server || stringField(cluster, 'proxy-url')) continue;
    const proxy = proxyFromEnvironment(server, env);
    if (proxy) cluster['proxy-url'] = proxy;
  }
}

/** The kubeconfig files to read, in kubectl's order; an explicit path must exist. */
function candidateFiles(
  explicit: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): string[] {
  if (explicit !== undefined) {
    if (!existsSync(explicit)) {
      throw new K8sExecutorError(
        'NO_CLUSTER',
        `The kubeconfig file "${explicit}" does not exist. Give the path of an existing kubeconfig (the ` +
          '`kubeconfigPath` option, `--kubeconfig` in the CLI), or leave it out to use KUBECONFIG, ' +
          '~/.kube/config or the in-cluster service account.',
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

/** The in-cluster config when the pod's env and service account token are there, as client-go does it. */
function inClusterKubeconfig(
  env: Readonly<Record<string, string | undefined>>,
  saDir: string,
  namespace: string | undefined,
): RawKubeconfig | undefined {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  const tokenFile = join(saDir, 'token');
  if (!host || !port || !existsSync(tokenFile)) return undefined;
  const server = `https://${isIPv6(host) ? `[${host}]` : host}:${port}`;
  return {
    clusters: [{ name: 'in-cluster', cluster: { server, 'certificate-authority': join(saDir, 'ca.crt') } }],
    // The projected token rotates: read again every minute and after a 401.
    users: [{ name: 'in-cluster', user: { tokenFile } }],
    contexts: [
      {
        name: 'in-cluster',
        context: { cluster: 'in-cluster', user: 'in-cluster', ...(namespace ? { namespace } : {}) },
      },
    ],
    'current-context': 'in-cluster',
  };
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
    `No Kubernetes cluster configured: looked for ${looked.join(', ')}. Give a kubeconfig file (the ` +
      '`kubeconfigPath` option, `--kubeconfig` in the CLI, or KUBECONFIG) and, if needed, its context ' +
      '(`context`, `--context`); or run inside a pod with a service account; or use the local backend ' +
      '(run --local in the CLI).',
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
