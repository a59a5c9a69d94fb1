/**
 * The two places where the adapter reaches past client-node 2.0.1's public API, kept in one file and
 * pinned by `test/adapters/client-node/client-node-internals.test.ts` (client-node is an exact
 * dependency; an upgrade that moves them fails that test first):
 *
 * - `KubeConfig.createDispatcher` (private): client-node builds a new undici Agent for every request
 *   there. The adapter replaces it per KubeConfig instance with a pooled one, fed by client-node's own
 *   (public) `createDispatcherOptions`, so TLS, proxy and auth stay exactly client-node's.
 * - `ExecAuth.getCredential` (private; `ExecAuth` is not re-exported by the package index): runs an exec
 *   credential plugin and returns the whole `ExecCredential`, `expirationTimestamp` included, which the
 *   public `applyAuthentication` hides.
 */
import type { AgentOptions } from 'node:https';
import type { Cluster, KubeConfig, User } from '@kubernetes/client-node';
import { type Credential, ExecAuth } from '@kubernetes/client-node/dist/exec_auth.js';
import type { Dispatcher } from 'undici';

/** What client-node's `createDispatcher` receives and returns. */
export type CreateDispatcher = (
  cluster: Cluster | null,
  agentOptions: AgentOptions,
) => Dispatcher | undefined;

interface WithCreateDispatcher {
  createDispatcher: CreateDispatcher;
}

/**
 * Replaces `kubeConfig`'s dispatcher factory. `replacement` gets client-node's arguments and its
 * original factory (for the cases the adapter does not build itself).
 */
export function replaceCreateDispatcher(
  kubeConfig: KubeConfig,
  replacement: (
    cluster: Cluster | null,
    agentOptions: AgentOptions,
    original: CreateDispatcher,
  ) => Dispatcher,
): void {
  const target = kubeConfig as unknown as WithCreateDispatcher;
  if (typeof target.createDispatcher !== 'function') {
    throw new Error(
      'client-node KubeConfig.createDispatcher is gone: the connection pool cannot be installed',
    );
  }
  const original = target.createDispatcher.bind(kubeConfig);
  target.createDispatcher = (cluster, agentOptions) => replacement(cluster, agentOptions, original);
}

/** An exec plugin's output (`client.authentication.k8s.io` `ExecCredential`). */
export type ExecCredential = Credential;

interface WithGetCredential {
  getCredential(user: User): Promise<Credential | null>;
}

/**
 * Runs the exec plugin of `user` once (a fresh ExecAuth, so nothing of client-node's own cache is
 * reused): spawn with `exec.command`/`args`/`env`, parse stdout, reject with stderr on a non-zero exit.
 */
export function runExecPlugin(user: User): Promise<ExecCredential | null> {
  const auth = new ExecAuth() as unknown as WithGetCredential;
  if (typeof auth.getCredential !== 'function') {
    throw new Error('client-node ExecAuth.getCredential is gone: exec credentials cannot be refreshed');
  }
  return auth.getCredential(user);
}
