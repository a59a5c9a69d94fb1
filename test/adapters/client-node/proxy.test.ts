/**
 * Proxies as kubectl picks them: the cluster's `proxy-url` wins, else `HTTPS_PROXY`/`HTTP_PROXY` (or
 * lowercase) unless `NO_PROXY` matches (Go's `httpproxy` rules), through a tiny real proxy.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { clientNodeOf } from '../../../src/adapters/client-node/client-node-config.js';
import { createClientNodeAdapters } from '../../../src/adapters/client-node/index.js';
import { loadKubeconfig } from '../../../src/adapters/client-node/kubeconfig.js';
import { proxyFromEnvironment } from '../../../src/adapters/client-node/proxy-env.js';
import { kubeconfigOf, writeKubeconfig } from './helpers.js';
import { closeServersAfterEach, json, startProxy, startServer, tlsFile } from './http.js';

closeServersAfterEach();

describe('proxyFromEnvironment (Go httpproxy rules)', () => {
  const env = { HTTPS_PROXY: 'http://proxy:3128', HTTP_PROXY: 'http://plain-proxy:3128' };

  it.each([
    ['https://k8s.example.com', env, 'http://proxy:3128'],
    ['http://k8s.example.com', env, 'http://plain-proxy:3128'],
    ['https://k8s.example.com', { https_proxy: 'http://lower:1' }, 'http://lower:1'],
    [
      'https://k8s.example.com',
      { HTTPS_PROXY: 'http://upper:1', https_proxy: 'http://lower:1' },
      'http://upper:1',
    ],
    ['https://k8s.example.com', { HTTPS_PROXY: 'proxy:3128' }, 'http://proxy:3128'],
    ['https://k8s.example.com', { HTTPS_PROXY: 'socks5://proxy:1080' }, 'socks5://proxy:1080'],
    ['https://k8s.example.com', { HTTP_PROXY: 'http://plain-proxy:3128' }, undefined],
    ['http://k8s.example.com', { ...env, REQUEST_METHOD: 'GET' }, undefined],
    ['https://localhost:6443', env, undefined],
    ['https://127.0.0.1:6443', env, undefined],
    ['https://[::1]:6443', env, undefined],
  ] as const)('%s with %j → %s', (server, vars, expected) => {
    expect(proxyFromEnvironment(server, vars)).toBe(expected);
  });

  it.each([
    ['*', 'https://anything.example.com', false],
    ['example.com', 'https://example.com', false],
    ['example.com', 'https://k8s.example.com', false],
    ['example.com', 'https://notexample.com', true],
    ['.example.com', 'https://example.com', true],
    ['.example.com', 'https://k8s.example.com', false],
    ['*.example.com', 'https://example.com', true],
    ['*.example.com', 'https://k8s.example.com', false],
    ['EXAMPLE.com', 'https://K8S.Example.COM', false],
    ['example.com:6443', 'https://k8s.example.com:6443', false],
    ['example.com:6443', 'https://k8s.example.com:443', true],
    ['example.com:443', 'https://k8s.example.com', false],
    ['10.0.0.1', 'https://10.0.0.1:6443', false],
    ['10.0.0.1:6443', 'https://10.0.0.1:6443', false],
    ['10.0.0.1:443', 'https://10.0.0.1:6443', true],
    ['10.0.0.0/8', 'https://10.96.0.1', false],
    ['10.0.0.0/8', 'https://11.0.0.1', true],
    ['10.0.0.0/8', 'https://ten.example.com', true],
    ['fd00::/8', 'https://[fd00::1]:6443', false],
    ['fd00::1', 'https://[fd00::1]:6443', false],
    ['[fd00::1]:6443', 'https://[fd00::1]:6443', false],
    [' other.com , example.com ', 'https://k8s.example.com', false],
    ['other.com,,', 'https://k8s.example.com', true],
  ] as const)('NO_PROXY=%j for %s → proxied: %s', (noProxy, server, proxied) => {
    const found = proxyFromEnvironment(server, { HTTPS_PROXY: 'http://proxy:3128', NO_PROXY: noProxy });
    expect(found !== undefined).toBe(proxied);
  });

  it('reads no_proxy when NO_PROXY is not set', () => {
    expect(
      proxyFromEnvironment('https://k8s.example.com', { HTTPS_PROXY: 'p:1', no_proxy: 'example.com' }),
    ).toBe(undefined);
  });
});

async function apiServer(tls: boolean) {
  return startServer((_req, res) => json(res, 200, { metadata: { name: 'via-proxy' } }), { tls });
}

/** The server's URL with the host `api.test`, which only the proxy can reach. */
const behindProxy = (url: string) => url.replace('127.0.0.1', 'api.test');

const tlsCluster = { 'certificate-authority': tlsFile('ca.crt'), 'tls-server-name': 'localhost' };

function adapters(server: string, cluster: Record<string, unknown>, env: Record<string, string>) {
  return createClientNodeAdapters({
    kubeconfigPath: writeKubeconfig(kubeconfigOf(server, { token: 't' }, cluster)),
    env,
    retry: { maxAttempts: 1 },
  });
}

const viaProxy = { metadata: { name: 'via-proxy' } };

describe('requests through a proxy', () => {
  it('tunnels HTTPS through HTTPS_PROXY with CONNECT, TLS verified end to end', async () => {
    const api = await apiServer(true);
    const proxy = await startProxy();
    const server = behindProxy(api.url);
    const { jobClient } = adapters(server, tlsCluster, { HTTPS_PROXY: proxy.url });
    await expect(jobClient.getJob('ml', 'x')).resolves.toEqual(viaProxy);
    await expect(jobClient.getJob('ml', 'y')).resolves.toEqual(viaProxy);
    // Tunnels are pooled keep-alive connections too (undici may open a second one).
    expect(proxy.seen.length).toBeLessThanOrEqual(2);
    expect(new Set(proxy.seen)).toEqual(new Set([`CONNECT ${new URL(server).host}`]));
  });

  it('forwards plain HTTP through http_proxy (lowercase)', async () => {
    const api = await apiServer(false);
    const proxy = await startProxy();
    const server = behindProxy(api.url);
    const { jobClient } = adapters(server, {}, { http_proxy: proxy.url });
    await expect(jobClient.getJob('ml', 'x')).resolves.toEqual(viaProxy);
    expect(proxy.seen).toEqual([`GET ${server}/apis/batch/v1/namespaces/ml/jobs/x`]);
  });

  it('connects directly when NO_PROXY matches (here: api.test cannot be resolved without the proxy)', async () => {
    const api = await apiServer(true);
    const proxy = await startProxy();
    const { jobClient } = adapters(behindProxy(api.url), tlsCluster, {
      HTTPS_PROXY: proxy.url,
      NO_PROXY: '.test',
    });
    await expect(jobClient.getJob('ml', 'x')).rejects.toMatchObject({ code: 'API_UNAVAILABLE' });
    expect(proxy.seen).toEqual([]);
  });

  it("the kubeconfig cluster's proxy-url wins over the environment", async () => {
    const api = await apiServer(true);
    const proxy = await startProxy();
    const server = behindProxy(api.url);
    const { jobClient } = adapters(
      server,
      { ...tlsCluster, 'proxy-url': proxy.url },
      { HTTPS_PROXY: 'http://127.0.0.1:9', NO_PROXY: '*' },
    );
    await expect(jobClient.getJob('ml', 'x')).resolves.toEqual(viaProxy);
    expect(proxy.seen).toEqual([`CONNECT ${new URL(server).host}`]);
  });

  it("sets the environment's proxy on clusters without proxy-url, in-cluster ones included", () => {
    const sa = mkdtempSync(join(tmpdir(), 'k8s-executor-sa-'));
    writeFileSync(join(sa, 'token'), 'sa-token');
    const loaded = loadKubeconfig({
      env: {
        KUBERNETES_SERVICE_HOST: '10.96.0.1',
        KUBERNETES_SERVICE_PORT: '443',
        HTTPS_PROXY: 'proxy:3128',
      },
      serviceAccountDir: sa,
    });
    expect(clientNodeOf(loaded).kubeConfig.getCurrentCluster()?.proxyUrl).toBe('http://proxy:3128');
  });
});
