import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ClientNodePodIntrospector } from '../../../src/adapters/client-node/pod-introspector.js';
import type { Pod } from '../../../src/types/kube.js';
import { server, status, testApi, useNock } from './helpers.js';

useNock();

const saDirs: string[] = [];
afterEach(() => {
  for (const dir of saDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function serviceAccountDir(namespace?: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'k8s-executor-sa-'));
  saDirs.push(dir);
  if (namespace) writeFileSync(join(dir, 'namespace'), `${namespace}\n`);
  return dir;
}

function pod(name: string): Pod {
  return {
    metadata: { name, namespace: 'mage' },
    spec: {
      containers: [
        { name: 'sidecar', image: 'envoy' },
        { name: 'mage-server', image: 'mage:1' },
      ],
    },
  };
}

function introspector(env: Record<string, string>, saDir = serviceAccountDir()) {
  const { api } = testApi();
  const debug: string[] = [];
  const it = new ClientNodePodIntrospector(api, {
    env,
    serviceAccountDir: saDir,
    onDebug: (m) => debug.push(m),
  });
  return { introspector: it, api, debug };
}

describe('ClientNodePodIntrospector', () => {
  it('outside a cluster returns undefined without any request, with a debug reason', async () => {
    const { introspector: pods, api, debug } = introspector({ HOSTNAME: 'laptop' });
    await expect(pods.currentPod()).resolves.toBeUndefined();
    expect(api.stats().requests).toBe(0);
    expect(pods.lastReason).toContain('not running in a cluster');
    expect(debug).toEqual([`server pod inheritance: ${pods.lastReason}`]);
  });

  it('reads KUBE_POD_NAME in KUBE_NAMESPACE and picks the MAGE_CONTAINER_NAME container', async () => {
    server().get('/api/v1/namespaces/mage/pods/mage-server-0').reply(200, pod('mage-server-0'));
    const { introspector: pods } = introspector({
      KUBE_POD_NAME: 'mage-server-0',
      KUBE_NAMESPACE: 'mage',
      HOSTNAME: 'ignored',
      MAGE_CONTAINER_NAME: 'mage-server',
    });
    const found = await pods.currentPod();
    expect(found?.pod.metadata.name).toBe('mage-server-0');
    expect(found?.containerName).toBe('mage-server');
  });

  it('falls back to HOSTNAME, the namespace file and the first container', async () => {
    server().get('/api/v1/namespaces/from-file/pods/host-pod').reply(200, pod('host-pod'));
    const { introspector: pods } = introspector(
      { KUBERNETES_SERVICE_HOST: '10.0.0.1', HOSTNAME: 'host-pod' },
      serviceAccountDir('from-file'),
    );
    await expect(pods.currentPod()).resolves.toMatchObject({ containerName: 'sidecar' });
  });

  it('uses the first container when MAGE_CONTAINER_NAME names none, and says so', async () => {
    server().get('/api/v1/namespaces/mage/pods/p').reply(200, pod('p'));
    const { introspector: pods } = introspector({
      KUBE_POD_NAME: 'p',
      KUBE_NAMESPACE: 'mage',
      MAGE_CONTAINER_NAME: 'web',
    });
    await expect(pods.currentPod()).resolves.toMatchObject({ containerName: 'sidecar' });
    expect(pods.lastReason).toContain(
      'MAGE_CONTAINER_NAME="web" is not a container of the pod (sidecar, mage-server)',
    );
  });

  it('returns undefined when the pod is not found (404)', async () => {
    server()
      .get('/api/v1/namespaces/mage/pods/p')
      .reply(404, status(404, 'NotFound', 'pods "p" not found'));
    const { introspector: pods } = introspector({ KUBE_POD_NAME: 'p', KUBE_NAMESPACE: 'mage' });
    await expect(pods.currentPod()).resolves.toBeUndefined();
    expect(pods.lastReason).toBe('pod "p" was not found in namespace "mage"');
  });

  it('returns undefined when no namespace is known', async () => {
    const { introspector: pods, api } = introspector({ KUBERNETES_SERVICE_HOST: '10.0.0.1', HOSTNAME: 'p' });
    await expect(pods.currentPod()).resolves.toBeUndefined();
    expect(api.stats().requests).toBe(0);
    expect(pods.lastReason).toContain('namespace is unknown');
  });

  it('rejects with API_FORBIDDEN on 403: inheritance must not be lost silently', async () => {
    server()
      .get('/api/v1/namespaces/mage/pods/p')
      .reply(403, status(403, 'Forbidden', 'pods "p" is forbidden'));
    const { introspector: pods } = introspector({ KUBE_POD_NAME: 'p', KUBE_NAMESPACE: 'mage' });
    await expect(pods.currentPod()).rejects.toMatchObject({
      code: 'API_FORBIDDEN',
      message: expect.stringContaining('cannot "get" "pods" (group "" (core)) "p" in namespace "mage"'),
    });
  });

  it('reads the pod once and caches it', async () => {
    server().get('/api/v1/namespaces/mage/pods/p').reply(200, pod('p'));
    const { introspector: pods, api } = introspector({ KUBE_POD_NAME: 'p', KUBE_NAMESPACE: 'mage' });
    const [first, second] = await Promise.all([pods.currentPod(), pods.currentPod()]);
    expect(await pods.currentPod()).toBe(first);
    expect(second).toBe(first);
    expect(api.stats().requests).toBe(1);
  });
});
