/**
 * The one place where the adapter reaches past client-node 2.0.1's public API, pinned by
 * `test/adapters/client-node/client-node-internals.test.ts` (client-node is an exact dependency; an
 * upgrade that moves it fails that test first): `KubeConfig.createDispatcher` (private), where
 * client-node builds a new undici Agent for every request. The adapter replaces it per KubeConfig
 * instance with a pooled one, fed by client-node's own (public) `createDispatcherOptions`, so TLS, proxy
 * and auth stay exactly client-node's.
 *
 * (Exec credential plugins are run by `exec-plugin.ts`, not by client-node's `ExecAuth`, which gives a
 * plugin a stdin nobody writes to and no time limit.)
 */
import type { AgentOptions } from 'node:https';
import type { Cluster, KubeConfig } from '@kubernetes/client-node';
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
