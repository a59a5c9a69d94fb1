import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import nock from 'nock';
import { afterEach, beforeAll, expect } from 'vitest';
import { createClientNodeAdapters } from '../../../src/adapters/client-node/index.js';
import { KubeApi, type KubeApiOptions } from '../../../src/adapters/client-node/kube-api.js';
import { type LoadedKubeconfig, loadKubeconfig } from '../../../src/adapters/client-node/kubeconfig.js';
import { FakeClock } from '../../../src/testing/fake-clock.js';

/** The fake API server every adapter test talks to (intercepted by nock; never resolved by DNS). */
export const SERVER = 'https://k8s.test';
/** The bearer token of the test kubeconfig; asserted absent from every error message. */
export const TOKEN = 'test-token-s3cr3t';

/** Writes a kubeconfig (as JSON, which is YAML) into a new temporary folder and returns its path. */
export function writeKubeconfig(config: object): string {
  const path = join(mkdtempSync(join(tmpdir(), 'k8s-executor-kc-')), 'config');
  writeFileSync(path, JSON.stringify(config));
  return path;
}

/**
 * A kubeconfig of one cluster `c`, one user `u` and one current context `x` (namespace `ml`). An
 * `http:` server gets `insecure-skip-tls-verify`, without which client-node refuses plain HTTP.
 */
export function kubeconfigOf(
  server: string,
  user: Record<string, unknown>,
  cluster: Record<string, unknown> = {},
): object {
  const plain = server.startsWith('http:') ? { 'insecure-skip-tls-verify': true } : {};
  return {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'c', cluster: { server, ...plain, ...cluster } }],
    users: [{ name: 'u', user }],
    contexts: [{ name: 'x', context: { cluster: 'c', user: 'u', namespace: 'ml' } }],
    'current-context': 'x',
  };
}

/**
 * The real adapters for a server on this machine (`http:` or `https:`), with bearer token `t`, no proxy
 * from the environment and the client-side rate limit out of the way; `options` override.
 */
export function adaptersFor(url: string, options: Parameters<typeof createClientNodeAdapters>[0] = {}) {
  return createClientNodeAdapters({
    kubeconfigPath: writeKubeconfig(kubeconfigOf(url, { token: 't' })),
    env: {},
    qps: 10_000,
    burst: 10_000,
    ...options,
  });
}

/** A kubeconfig for {@link SERVER} with a bearer token and no TLS options, loaded without proxies. */
export function testKubeconfig(): LoadedKubeconfig {
  testKubeconfigPath ??= writeKubeconfig(kubeconfigOf(SERVER, { token: TOKEN }));
  return loadKubeconfig({ kubeconfigPath: testKubeconfigPath, env: {} });
}
let testKubeconfigPath: string | undefined;

/** A KubeApi over {@link testKubeconfig} with a FakeClock and a fixed jitter of 0.5. */
export function testApi(options: Partial<KubeApiOptions> = {}): { api: KubeApi; clock: FakeClock } {
  const clock = new FakeClock(0);
  const api = new KubeApi({ kubeconfig: testKubeconfig(), clock, random: () => 0.5, ...options });
  return { api, clock };
}

/** The nock scope of {@link SERVER}, checking the bearer token on every request. */
export function server(): nock.Scope {
  return nock(SERVER, { reqheaders: { authorization: `Bearer ${TOKEN}` } });
}

/** Installs nock for a test file: no real network, and every mocked reply must have been used. */
export function useNock(): void {
  beforeAll(() => nock.disableNetConnect());
  afterEach(() => {
    const pending = nock.pendingMocks();
    nock.cleanAll();
    expect(pending).toEqual([]);
  });
}

/**
 * Settles `promise` while moving the fake clock: each round wakes the next sleeper, or, when nothing
 * sleeps, yields to the event loop so that the (in-process) HTTP exchange can progress.
 */
export async function drive<T>(promise: Promise<T>, clock: FakeClock): Promise<T> {
  let settled = false;
  promise.then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  for (let round = 0; round < 10_000 && !settled; round++) {
    if (!(await clock.tick())) await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return promise;
}

/** A Kubernetes Status body. */
export function status(code: number, reason: string, message: string, extra: Record<string, unknown> = {}) {
  return { kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message, ...extra };
}

/**
 * A reply body that breaks the connection after sending `lines` (none: before any byte). nock's
 * `replyWithError` does not reach undici (it hangs), a destroyed body does: undici reports an error
 * caused by `UND_ERR_SOCKET`, as on a real reset.
 */
export function brokenStream(...lines: string[]): () => Readable {
  return () => {
    const body = new Readable({ read() {} });
    for (const line of lines) body.push(line);
    setImmediate(() => body.destroy(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })));
    return body;
  };
}

/** A reply body whose chunks the test pushes (and ends) itself. */
export function controlledStream(): { body: Readable; reply: () => Readable } {
  const body = new Readable({ read() {} });
  return { body, reply: () => body };
}
