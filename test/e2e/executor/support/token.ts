// A ServiceAccount token that rotates in a kubeconfig `tokenFile`, for the credential fault tests.
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as k8s from '@kubernetes/client-node';
import { stringify } from 'yaml';
import type { TestNamespace } from './cluster.js';

/**
 * A ServiceAccount identity whose token lives in a file named by the kubeconfig's `tokenFile` (the
 * spelling kubectl and client-go use), as a projected token is mounted in a pod. Each token is bound
 * to a Secret of its own, so `rotate()` can revoke the previous one at once by deleting its Secret:
 * the next request with the old token gets 401, as after a real rotation once the old token expired.
 */
export interface RotatingToken {
  /** A kubeconfig (mode 0600) whose user reads `tokenFile`. */
  readonly kubeconfigPath: string;
  /** Writes a new token to the file, then revokes the one before. */
  rotate(): Promise<void>;
  /** Tokens issued so far. */
  readonly issued: number;
  /** Whether the API server now refuses the token that `rotate()` replaced (HTTP 401). */
  previousTokenRefused(): Promise<boolean>;
  /** Removes the files. */
  dispose(): Promise<void>;
}

export async function rotatingToken(
  ns: TestNamespace,
  admin: k8s.KubeConfig,
  serviceAccount: string,
): Promise<RotatingToken> {
  const cluster = admin.getCurrentCluster();
  if (!cluster?.caFile)
    throw new Error('the admin kubeconfig has no cluster with a certificate-authority file');
  const dir = await mkdtemp(join(tmpdir(), 'k8s-executor-e2e-token-'));
  const tokenFile = join(dir, 'token');
  let issued = 0;
  let current: string | undefined;
  let previousToken: string | undefined;
  let currentToken: string | undefined;
  const issue = async () => {
    issued++;
    const secret = `${serviceAccount}-binding-${issued}`;
    const created = await ns.core.createNamespacedSecret({
      namespace: ns.name,
      body: { metadata: { name: secret }, type: 'Opaque' },
    });
    const token = await ns.core.createNamespacedServiceAccountToken({
      name: serviceAccount,
      namespace: ns.name,
      body: {
        spec: {
          audiences: [],
          expirationSeconds: 3600,
          boundObjectRef: { apiVersion: 'v1', kind: 'Secret', name: secret, uid: created.metadata?.uid },
        },
      },
    });
    previousToken = currentToken;
    currentToken = token.status?.token ?? '';
    // A token is a secret: written to a private file, never printed.
    await writeFile(tokenFile, currentToken, { mode: 0o600 });
    const previous = current;
    current = secret;
    if (previous) await ns.core.deleteNamespacedSecret({ name: previous, namespace: ns.name });
  };
  await issue();
  const kubeconfigPath = join(dir, 'kubeconfig');
  await writeFile(
    kubeconfigPath,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        { name: 'e2e', cluster: { server: cluster.server, 'certificate-authority': cluster.caFile } },
      ],
      users: [{ name: serviceAccount, user: { tokenFile } }],
      contexts: [{ name: 'sa', context: { cluster: 'e2e', user: serviceAccount, namespace: ns.name } }],
      'current-context': 'sa',
    }),
    { mode: 0o600 },
  );
  await chmod(kubeconfigPath, 0o600);
  return {
    kubeconfigPath,
    rotate: issue,
    get issued() {
      return issued;
    },
    previousTokenRefused: async () => {
      if (previousToken === undefined) return false;
      const response = await fetchWithToken(cluster.server, cluster.caFile!, previousToken);
      return response === 401;
    },
    dispose: () => rm(dir, { recursive: true, force: true }),
  };
}

/** The HTTP status of `GET /api` with that bearer token. */
async function fetchWithToken(server: string, caFile: string, token: string): Promise<number> {
  const ca = await readFile(caFile);
  return new Promise((resolve, reject) => {
    const req = request(`${server}/api`, { headers: { Authorization: `Bearer ${token}` }, ca }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}
