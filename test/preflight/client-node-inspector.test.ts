// The client-node ClusterInspector at the HTTP edge (nock): paths, queries, bodies, and what it keeps.
import { describe, expect, it } from 'vitest';
import { ClientNodeClusterInspector } from '../../src/adapters/client-node/cluster-inspector.js';
import { createClientNodeAdapters } from '../../src/adapters/client-node/index.js';
import { ClientNodeJobClient } from '../../src/adapters/client-node/job-client.js';
import {
  kubeconfigOf,
  SERVER,
  server,
  status,
  TOKEN,
  testApi,
  useNock,
  writeKubeconfig,
} from '../adapters/client-node/helpers.js';
import { jobWith } from './fixtures.js';

useNock();

function inspector() {
  const { api } = testApi();
  return new ClientNodeClusterInspector(api, new ClientNodeJobClient(api));
}

describe('ClientNodeClusterInspector', () => {
  it('keeps the type and key names of a Secret, never its values', async () => {
    server()
      .get('/api/v1/namespaces/ml/secrets/db')
      .reply(200, {
        kind: 'Secret',
        metadata: { name: 'db', namespace: 'ml' },
        type: 'Opaque',
        data: { password: 'c3VwZXItc2VjcmV0', user: 'YWRtaW4=' },
      });
    const keys = await inspector().getSecretKeys('ml', 'db');
    expect(keys).toEqual({ name: 'db', keys: ['password', 'user'], type: 'Opaque' });
    expect(JSON.stringify(keys)).not.toContain('c3VwZXItc2VjcmV0');
  });

  it('reads ConfigMap keys (data and binaryData), a claim, a service account and a namespace; undefined on 404', async () => {
    server()
      .get('/api/v1/namespaces/ml/configmaps/settings')
      .reply(200, { metadata: { name: 'settings' }, data: { b: '1' }, binaryData: { a: 'AA==' } });
    server()
      .get('/api/v1/namespaces/ml/persistentvolumeclaims/data')
      .reply(200, { metadata: { name: 'data' }, status: { phase: 'Bound', accessModes: ['ReadWriteMany'] } });
    server()
      .get('/api/v1/namespaces/ml/serviceaccounts/runner')
      .reply(404, status(404, 'NotFound', 'serviceaccounts "runner" not found'));
    server()
      .get('/api/v1/namespaces/ml')
      .reply(200, { metadata: { name: 'ml' } });
    const inspect = inspector();
    expect(await inspect.getConfigMapKeys('ml', 'settings')).toEqual({ name: 'settings', keys: ['a', 'b'] });
    expect((await inspect.getPersistentVolumeClaim('ml', 'data'))?.status?.phase).toBe('Bound');
    expect(await inspect.getServiceAccount('ml', 'runner')).toBeUndefined();
    expect(await inspect.getNamespace('ml')).toEqual({ metadata: { name: 'ml' } });
  });

  it('classifies a 403 with the verb and resource it needed', async () => {
    server()
      .get('/api/v1/namespaces/ml/secrets/db')
      .reply(
        403,
        status(403, 'Forbidden', 'secrets "db" is forbidden: User "u" cannot get resource "secrets"'),
      );
    await expect(inspector().getSecretKeys('ml', 'db')).rejects.toMatchObject({
      code: 'API_FORBIDDEN',
      operation: { verb: 'get', resource: 'secrets', group: '', namespace: 'ml', name: 'db' },
    });
  });

  it('reads every page of a list', async () => {
    server()
      .get('/api/v1/nodes')
      .query({ limit: '500' })
      .reply(200, { items: [{ metadata: { name: 'a' } }], metadata: { continue: 'next' } });
    server()
      .get('/api/v1/nodes')
      .query({ limit: '500', continue: 'next' })
      .reply(200, { items: [{ metadata: { name: 'b' } }], metadata: {} });
    server().get('/api/v1/namespaces/ml/resourcequotas').query({ limit: '500' }).reply(200, { items: [] });
    server()
      .get('/api/v1/namespaces/ml/limitranges')
      .query({ limit: '500' })
      .reply(200, { items: [{ metadata: { name: 'lr' }, spec: { limits: [] } }] });
    const inspect = inspector();
    expect((await inspect.listNodes()).map((n) => n.metadata.name)).toEqual(['a', 'b']);
    expect(await inspect.listResourceQuotas('ml')).toEqual([]);
    expect(await inspect.listLimitRanges('ml')).toHaveLength(1);
  });

  it('asks a SelfSubjectAccessReview with the resource attributes', async () => {
    const attributes = { namespace: 'ml', verb: 'get', group: '', resource: 'pods', subresource: 'log' };
    server()
      .post('/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SelfSubjectAccessReview',
        spec: { resourceAttributes: attributes },
      })
      .reply(201, { status: { allowed: false, reason: 'no RBAC rule' } });
    expect(await inspector().reviewAccess(attributes)).toEqual({ allowed: false, reason: 'no RBAC rule' });
  });

  it('dry-runs a Job create with dryRun=All and fieldValidation=Strict, quoting the server when it refuses', async () => {
    const job = jobWith();
    server()
      .post('/apis/batch/v1/namespaces/ml/jobs')
      .query({ dryRun: 'All', fieldValidation: 'Strict' })
      .reply(201, job);
    server()
      .post('/apis/batch/v1/namespaces/ml/jobs')
      .query({ dryRun: 'All', fieldValidation: 'Strict' })
      .reply(
        400,
        status(400, 'BadRequest', '.spec.template.spec.containers[0].colour: field not declared in schema'),
      );
    const inspect = inspector();
    expect(await inspect.dryRunCreateJob('ml', job)).toEqual(job);
    await expect(inspect.dryRunCreateJob('ml', job)).rejects.toMatchObject({
      code: 'API_INVALID',
      message: expect.stringMatching(
        /The server said: \.spec\.template\.spec\.containers\[0\]\.colour: field not declared in schema$/,
      ),
    });
  });

  it('is wired by createClientNodeAdapters over the shared API (one request count)', async () => {
    const kubeconfigPath = writeKubeconfig(kubeconfigOf(SERVER, { token: TOKEN }));
    server()
      .get('/api/v1/namespaces/ml')
      .reply(200, { metadata: { name: 'ml' } });
    const adapters = createClientNodeAdapters({ kubeconfigPath, env: {} });
    await adapters.clusterInspector.getNamespace('ml');
    expect(adapters.apiCalls().byCall).toEqual({ 'get namespaces': 1 });
  });
});
