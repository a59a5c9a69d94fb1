import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createClientNodeAdapters } from '../../../src/adapters/client-node/index.js';
import { FakeClock } from '../../../src/testing/fake-clock.js';
import { server, status, useNock } from './helpers.js';

useNock();

const FIXTURE = join(import.meta.dirname, 'fixtures', 'kubeconfig.yaml');
const emptyHome = mkdtempSync(join(tmpdir(), 'k8s-executor-home-'));
afterAll(() => rmSync(emptyHome, { recursive: true, force: true }));

describe('createClientNodeAdapters', () => {
  it('does no IO when created; the first call reports NO_CLUSTER, unretried', async () => {
    const adapters = createClientNodeAdapters({ env: { HOME: emptyHome }, clock: new FakeClock(0) });
    await expect(adapters.jobClient.getJob('ml', 'j1')).rejects.toMatchObject({ code: 'NO_CLUSTER' });
    expect(() => adapters.defaultNamespace()).toThrow(expect.objectContaining({ code: 'NO_CLUSTER' }));
    expect(adapters.apiCalls()).toMatchObject({ requests: 0, retries: 0 });
  });

  it('wires the kubeconfig file, its namespace, the options and shared call counts', async () => {
    server()
      .get('/apis/batch/v1/namespaces/ml/jobs/j1')
      .reply(503, status(503, 'ServiceUnavailable', 'busy'));
    server()
      .get('/api/v1/namespaces/ml/pods/server-0')
      .reply(200, { metadata: { name: 'server-0' }, spec: { containers: [{ name: 'c' }] } });
    const adapters = createClientNodeAdapters({
      kubeconfigPath: FIXTURE,
      env: { KUBE_POD_NAME: 'server-0', KUBE_NAMESPACE: 'ml' },
      retry: { maxAttempts: 1 },
      clock: new FakeClock(0),
    });
    expect(adapters.defaultNamespace()).toBe('ml');
    await expect(adapters.jobClient.getJob('ml', 'j1')).rejects.toMatchObject({
      code: 'API_UNAVAILABLE',
      message: expect.stringContaining('after 1 attempt in'),
    });
    await expect(adapters.podIntrospector.currentPod()).resolves.toMatchObject({ containerName: 'c' });
    expect(adapters.apiCalls().byCall).toEqual({ 'get jobs': 1, 'get pods': 1 });
  });

  it('rejects impossible rate limits at once', () => {
    expect(() => createClientNodeAdapters({ qps: -1 })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    );
  });
});
