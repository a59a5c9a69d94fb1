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
    // Both library and CLI users learn how to name a kubeconfig and a context.
    for (const way of ['`kubeconfigPath`', '`--kubeconfig`', '`context`', '`--context`']) {
      expect(error.message).toContain(way);
    }
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
    expect(error.message).toContain('the `context` option, `--context` in the CLI');
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

const k3s = (server: string, token = 't') =>
  JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'default', cluster: { server, 'insecure-skip-tls-verify': true } }],
    users: [{ name: 'default', user: { token } }],
    contexts: [{ name: 'default', context: { cluster: 'default', user: 'default' } }],
    'current-context': 'default',
  });

describe('KUBECONFIG with several files (regression: repro kubeconfig-merge)', () => {
  it('merges them like kubectl (first file wins a name)', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'a'), k3s('https://127.0.0.1:6443', 'token-a'));
    writeFileSync(join(dir, 'b'), k3s('https://127.0.0.1:7443', 'token-b'));
    let outcome: string;
    let loaded: LoadedKubeconfig | undefined;
    try {
      loaded = loadKubeconfig({ env: { KUBECONFIG: [join(dir, 'a'), join(dir, 'b')].join(delimiter) } });
      outcome = loaded.server;
    } catch (e) {
      outcome = `threw ${(e as Error).constructor.name}: ${(e as Error).message}`;
    }
    expect(outcome).toBe('https://127.0.0.1:6443');
    expect(await authorizationOf(loaded!)).toBe('Bearer token-a');
  });

  it('takes current-context from the first file that sets it, and names from every file', () => {
    const dir = tempDir();
    const only = (name: string, server: string, current?: string) =>
      JSON.stringify({
        clusters: [{ name, cluster: { server } }],
        users: [{ name, user: { token: name } }],
        contexts: [{ name, context: { cluster: name, user: name, namespace: `${name}-ns` } }],
        ...(current ? { 'current-context': current } : {}),
      });
    writeFileSync(join(dir, 'a'), only('a', 'https://a.test'));
    writeFileSync(join(dir, 'b'), only('b', 'https://b.test', 'a'));
    writeFileSync(join(dir, 'c'), only('c', 'https://c.test', 'c'));
    const env = { KUBECONFIG: ['a', 'b', 'c'].map((f) => join(dir, f)).join(delimiter) };
    expect(loadKubeconfig({ env })).toMatchObject({
      context: 'a',
      server: 'https://a.test',
      defaultNamespace: 'a-ns',
    });
    expect(loadKubeconfig({ env, context: 'c' })).toMatchObject({ server: 'https://c.test' });
  });

  it("resolves each file's relative paths against its own folder, as kubectl does", () => {
    const first = tempDir();
    const second = tempDir();
    writeFileSync(join(first, 'config'), k3s('https://127.0.0.1:6443'));
    writeFileSync(
      join(second, 'config'),
      JSON.stringify({
        clusters: [
          { name: 'other', cluster: { server: 'https://o.test', 'certificate-authority': 'certs/ca.crt' } },
        ],
        users: [{ name: 'other', user: { 'client-certificate': 'u.crt', 'client-key': '../keys/u.key' } }],
        contexts: [{ name: 'other', context: { cluster: 'other', user: 'other' } }],
      }),
    );
    const loaded = loadKubeconfig({
      env: { KUBECONFIG: [join(first, 'config'), join(second, 'config')].join(delimiter) },
      context: 'other',
    });
    const { kubeConfig } = clientNodeOf(loaded);
    expect(kubeConfig.getCurrentCluster()?.caFile).toBe(join(second, 'certs', 'ca.crt'));
    expect(kubeConfig.getCurrentUser()).toMatchObject({
      certFile: join(second, 'u.crt'),
      keyFile: join(second, '..', 'keys', 'u.key'),
    });
  });

  it('still reports a broken file as NO_CLUSTER naming it', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'a'), k3s('https://127.0.0.1:6443'));
    writeFileSync(join(dir, 'b'), JSON.stringify({ clusters: [{ name: 'x', cluster: {} }] }));
    const error = noClusterError(() =>
      loadKubeconfig({ env: { KUBECONFIG: [join(dir, 'a'), join(dir, 'b')].join(delimiter) } }),
    );
    expect(error.message).toContain(
      `"${join(dir, 'b')}" could not be read: clusters[0].cluster.server is missing`,
    );
  });

  it('reports the YAML line of a syntax error', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'config'), 'apiVersion: v1\nclusters:\n  - name: a\n   bad: [\n');
    const error = noClusterError(() => loadKubeconfig({ kubeconfigPath: join(dir, 'config'), env: {} }));
    expect(error.message).toMatch(/could not be read \(YAML error at line \d+\)/);
  });
});
