import type { KubeConfig } from '@kubernetes/client-node';
import type { RefreshingAuthenticator } from './credentials.js';
import type { LoadedKubeconfig } from './kubeconfig.js';

/**
 * The client-node side of a {@link LoadedKubeconfig}: kept out of the public type, whose declaration
 * must not mention client-node's types (consumers compile our `.d.ts` with `skipLibCheck: false`, and
 * client-node's own declarations do not compile there).
 */
export interface ClientNodeKubeconfig {
  /** The client-node kubeconfig, with the chosen context current. */
  kubeConfig: KubeConfig;
  /** Refreshes the token-file and exec credentials of its users. */
  authenticator: RefreshingAuthenticator;
}

const clientNodeParts = new WeakMap<LoadedKubeconfig, ClientNodeKubeconfig>();

/** Links a loaded kubeconfig to its client-node parts (done once, by `loadKubeconfig`). */
export function attachClientNode(loaded: LoadedKubeconfig, parts: ClientNodeKubeconfig): void {
  clientNodeParts.set(loaded, parts);
}

/** The client-node parts of a kubeconfig returned by `loadKubeconfig`. */
export function clientNodeOf(loaded: LoadedKubeconfig): ClientNodeKubeconfig {
  const parts = clientNodeParts.get(loaded);
  if (!parts) throw new TypeError('not a kubeconfig returned by loadKubeconfig()');
  return parts;
}
