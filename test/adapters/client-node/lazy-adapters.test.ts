/**
 * The package's `createClientNodeAdapters` (`lazy.ts`): a light function whose ports load the adapter
 * on their first call and share it. (That importing it loads no client-node is checked on the built
 * package: `test/package/lazy-client-node.test.ts`.)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createClientNodeAdapters } from '../../../src/adapters/client-node/lazy.js';
import { FakeClock } from '../../../src/testing/fake-clock.js';
import { server, useNock } from './helpers.js';

useNock();

const FIXTURE = join(import.meta.dirname, 'fixtures', 'kubeconfig.yaml');
const emptyHome = mkdtempSync(join(tmpdir(), 'k8s-executor-home-'));
afterAll(() => rmSync(emptyHome, { recursive: true, force: true }));

describe('the lazy createClientNodeAdapters', () => {
  it('counts nothing before the first call, then the calls of both ports, which share one adapter', async () => {
    server()
      .get('/apis/batch/v1/namespaces/ml/jobs/j1')
      .reply(200, { metadata: { name: 'j1' } });
    server()
      .get('/api/v1/namespaces/ml/pods/server-0')
      .reply(200, { metadata: { name: 'server-0' }, spec: { containers: [{ name: 'c' }] } });
    const adapters = createClientNodeAdapters({
      kubeconfigPath: FIXTURE,
      env: { KUBE_POD_NAME: 'server-0', KUBE_NAMESPACE: 'ml' },
      clock: new FakeClock(0),
    });
    expect(adapters.apiCalls()).toEqual({ requests: 0, retries: 0, byCall: {}, retriesByCall: {} });
    await expect(adapters.defaultNamespace()).resolves.toBe('ml');
    await expect(adapters.jobClient.getJob('ml', 'j1')).resolves.toMatchObject({ metadata: { name: 'j1' } });
    await expect(adapters.podIntrospector.currentPod()).resolves.toMatchObject({ containerName: 'c' });
    expect(adapters.apiCalls().byCall).toEqual({ 'get jobs': 1, 'get pods': 1 });
  });

  it('reports NO_CLUSTER from the first call (and from defaultNamespace, as a rejection), not when created', async () => {
    const adapters = createClientNodeAdapters({ env: { HOME: emptyHome }, clock: new FakeClock(0) });
    await expect(adapters.jobClient.listJobs('ml', '')).rejects.toMatchObject({ code: 'NO_CLUSTER' });
    await expect(adapters.defaultNamespace()).rejects.toMatchObject({ code: 'NO_CLUSTER' });
  });

  it('hands out a JobClient that is a plain value (not thenable) and passes streaming lists on', async () => {
    const { jobClient } = createClientNodeAdapters({ env: { HOME: emptyHome } });
    expect('then' in jobClient).toBe(false);
    const returned = await (async () => jobClient)();
    expect(returned).toBe(jobClient);
    expect(jobClient.supportsWatchList).toBe(true);
  });
});
