import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { RequestContext } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { clientNodeOf } from '../../../src/adapters/client-node/client-node-config.js';
import { type LoadedKubeconfig, loadKubeconfig } from '../../../src/adapters/client-node/kubeconfig.js';
import { K8sExecutorError } from '../../../src/errors/base.js';

const FIXTURE = join(import.meta.dirname, 'fixtures', 'kubeconfig.yaml');
const temps: string[] = [];

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'k8s-executor-kc-'));
  temps.push(dir);
  return dir;
}

afterEach(() => {
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function noClusterError(run: () => unknown): K8sExecutorError {
  try {
    run();
  } catch (e) {
    expect(e).toBeInstanceOf(K8sExecutorError);
    expect((e as K8sExecutorError).code).toBe('NO_CLUSTER');
    return e as K8sExecutorError;
  }
  throw new Error('expected NO_CLUSTER');
}

async function authorizationOf(loaded: LoadedKubeconfig): Promise<string> {
  const context = new RequestContext('https://x.test/api', 'GET');
  await clientNodeOf(loaded).kubeConfig.applySecurityAuthentication(context);
  return context.getHeaders().Authorization ?? '';
}

describe('loadKubeconfig', () => {
  it('throws NO_CLUSTER (never localhost:8080) when nothing exists, saying what was looked for', () => {
    const home = tempDir();
    const error = noClusterError(() => loadKubeconfig({ env: { HOME: home }, serviceAccountDir: tempDir() }));
    expect(error.message).toContain('KUBECONFIG (not set)');
    expect(error.message).toContain(join(home, '.kube', 'config'));
    expect(error.message).toContain('KUBERNETES_SERVICE_HOST not set');
    expect(error.message).toContain('run --local');
  });

  it('loads an explicit path, with the current context and its namespace', () => {
    const loaded = loadKubeconfig({ kubeconfigPath: FIXTURE, env: {} });
    expect(loaded.server).toBe('https://k8s.test');
    expect(loaded.defaultNamespace).toBe('ml');
    expect(loaded.source).toBe(FIXTURE);
  });

  it('switches to the context asked for; without a namespace the default is "default"', () => {
    const loaded = loadKubeconfig({ kubeconfigPath: FIXTURE, context: 'prod', env: {} });
    expect(loaded.server).toBe('https://prod.k8s.test');
    expect(loaded.defaultNamespace).toBe('default');
  });

  it('names the known contexts when the one asked for does not exist', () => {
    const error = noClusterError(() =>
      loadKubeconfig({ kubeconfigPath: FIXTURE, context: 'staging', env: {} }),
    );
    expect(error.message).toContain('"staging" does not exist');
    expect(error.message).toContain('Known contexts: dev, prod');
  });

  it('says which explicit path is missing', () => {
    const error = noClusterError(() => loadKubeconfig({ kubeconfigPath: '/nope/kubeconfig', env: {} }));
    expect(error.message).toContain('"/nope/kubeconfig" does not exist');
  });

  it('reads KUBECONFIG (skipping missing entries) before ~/.kube/config', () => {
    const home = tempDir();
    mkdirSync(join(home, '.kube'));
    writeFileSync(join(home, '.kube', 'config'), 'apiVersion: v1\nkind: Config\nclusters: []\n');
    const loaded = loadKubeconfig({ env: { HOME: home, KUBECONFIG: ['/missing', FIXTURE].join(delimiter) } });
    expect(loaded.server).toBe('https://k8s.test');
  });

  it('reads ~/.kube/config of HOME', () => {
    const home = tempDir();
    mkdirSync(join(home, '.kube'));
    writeFileSync(join(home, '.kube', 'config'), readFileSync(FIXTURE));
    expect(loadKubeconfig({ env: { HOME: home } }).defaultNamespace).toBe('ml');
  });

  it('reports an unreadable file without quoting it (it holds tokens)', () => {
    const dir = tempDir();
    const file = join(dir, 'config');
    writeFileSync(file, 'users:\n  - name: u\n    user: { token: "sekret-token\n');
    const error = noClusterError(() => loadKubeconfig({ kubeconfigPath: file, env: {} }));
    expect(error.message).toContain('could not be read');
    expect(error.message).not.toContain('sekret-token');
  });

  it('uses the in-cluster service account: https://host:port, token file, namespace file', async () => {
    const sa = tempDir();
    writeFileSync(join(sa, 'token'), 'sa-token');
    writeFileSync(join(sa, 'ca.crt'), '');
    writeFileSync(join(sa, 'namespace'), 'pipelines\n');
    const loaded = loadKubeconfig({
      env: { HOME: tempDir(), KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' },
      serviceAccountDir: sa,
    });
    expect(loaded.server).toBe('https://[fd00::1]:443');
    expect(loaded.defaultNamespace).toBe('pipelines');
    expect(loaded.source).toBe('in-cluster service account');
    expect(await authorizationOf(loaded)).toBe('Bearer sa-token');
  });

  it('in-cluster env without a token file is no cluster, and says the token is missing', () => {
    const sa = tempDir();
    const error = noClusterError(() =>
      loadKubeconfig({
        env: { HOME: tempDir(), KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443' },
        serviceAccountDir: sa,
      }),
    );
    expect(error.message).toContain(`${join(sa, 'token')} missing`);
  });
});
