import { describe, expect, it } from 'vitest';
import { ApiError } from '../../src/errors/api-error.js';
import { K8sExecutorError } from '../../src/errors/base.js';
import type { ResourceAttributes } from '../../src/ports/cluster-inspector.js';
import type { CallOptions } from '../../src/ports/job-client.js';
import { inspectJobs, type PreflightTarget } from '../../src/preflight/inspect.js';
import type { CheckName } from '../../src/preflight/types.js';
import type { JsonObject } from '../../src/types/kube.js';
import {
  container,
  type FakeCluster,
  FakeInspector,
  GOOD_CLUSTER,
  jobWith,
  node,
  quota,
} from './fixtures.js';

/** A Job that refers to one of everything. */
const FULL_SPEC: JsonObject = {
  serviceAccountName: 'runner',
  imagePullSecrets: [{ name: 'registry' }],
  containers: [
    container(
      'main',
      { requests: { cpu: '500m', memory: '1Gi' }, limits: { memory: '1Gi' } },
      {
        env: [{ name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } }],
        envFrom: [{ configMapRef: { name: 'settings' } }],
        volumeMounts: [{ name: 'data', mountPath: '/data' }],
      },
    ),
  ],
  volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'datasets' } }],
};

/** The cluster in which FULL_SPEC passes every check. */
const FULL_CLUSTER: FakeCluster = {
  namespaces: ['ml'],
  serviceAccounts: ['runner'],
  secrets: {
    db: { keys: ['password'] },
    registry: { keys: ['.dockerconfigjson'], type: 'kubernetes.io/dockerconfigjson' },
  },
  configMaps: { settings: ['MODE'] },
  claims: { datasets: { accessModes: ['ReadWriteMany'] } },
  quotas: [
    quota(
      'team',
      { 'requests.cpu': '10', 'limits.memory': '20Gi' },
      { 'requests.cpu': '1', 'limits.memory': '2Gi' },
    ),
  ],
  limitRanges: [
    { metadata: { name: 'lr' }, spec: { limits: [{ type: 'Container', max: { memory: '4Gi' } }] } },
  ],
  nodes: [node('node-1')],
};

const target = (block: string, spec: JsonObject = FULL_SPEC, namespace = 'ml'): PreflightTarget => {
  const jobName = `mage-data-prep-block-preflight-${block}`;
  return { block, job: jobWith(spec, namespace, jobName), jobName, namespace };
};

const statusOf = (findings: { check: CheckName; status: string }[]) =>
  Object.fromEntries(findings.map((f) => [f.check, f.status]));

describe('inspectJobs', () => {
  it('passes a Job whose every reference exists, with one finding per check in order', async () => {
    const [block] = await inspectJobs(new FakeInspector(FULL_CLUSTER), [target('load')]);
    expect(block?.status).toBe('ok');
    expect(block?.findings.map((f) => [f.check, f.status])).toEqual([
      ['dry-run', 'ok'],
      ['rbac', 'ok'],
      ['namespace', 'ok'],
      ['service-account', 'ok'],
      ['secret', 'ok'],
      ['configmap', 'ok'],
      ['pvc', 'ok'],
      ['image-pull-secret', 'ok'],
      ['limit-range', 'ok'],
      ['quota', 'ok'],
      ['node-fit', 'ok'],
    ]);
  });

  it('reads each object once for all Jobs, and warns about a ReadWriteOnce claim that blocks share', async () => {
    const inspector = new FakeInspector({ ...FULL_CLUSTER, claims: { datasets: {} } });
    const blocks = await inspectJobs(inspector, [target('load'), target('transform'), target('export')]);
    expect(inspector.calls.get('get secrets')).toBe(2); // db and registry
    expect(inspector.calls.get('list nodes')).toBe(1);
    expect(inspector.calls.get('get namespaces')).toBe(1);
    expect(inspector.calls.get('create jobs')).toBe(3); // one dry run per Job
    // 9 verbs in one namespace, the first of them asked before anything else.
    expect(inspector.calls.get('create selfsubjectaccessreviews')).toBe(9);
    expect(blocks.map((b) => b.findings.find((f) => f.check === 'pvc')?.message)).toEqual([
      expect.stringMatching(/blocks transform, export mount it too/),
      expect.stringMatching(/blocks load, export mount it too/),
      expect.stringMatching(/blocks load, transform mount it too/),
    ]);
  });

  it('finds each problem of a bad cluster, and the block fails', async () => {
    const [block] = await inspectJobs(
      new FakeInspector({
        namespaces: ['ml'],
        nodes: [node('n', { taints: [{ key: 'dedicated', value: 'data-jobs', effect: 'NoSchedule' }] })],
        quotas: [quota('tiny', { 'limits.memory': '100Mi' }, { 'limits.memory': '0' })],
        denied: ['create jobs'],
      }),
      [target('load')],
    );
    expect(block?.status).toBe('fail');
    expect(statusOf(block!.findings)).toEqual({
      'dry-run': 'ok',
      rbac: 'fail',
      namespace: 'ok',
      'service-account': 'fail',
      secret: 'fail',
      configmap: 'fail',
      pvc: 'fail',
      'image-pull-secret': 'warn',
      'limit-range': 'ok',
      quota: 'fail',
      'node-fit': 'warn',
    });
  });

  it('does not read inside a namespace that does not exist', async () => {
    const inspector = new FakeInspector({ ...FULL_CLUSTER, namespaces: [] });
    const [block] = await inspectJobs(inspector, [target('load')]);
    expect(block?.findings.find((f) => f.check === 'namespace')?.status).toBe('fail');
    expect(block?.findings.find((f) => f.check === 'secret')).toEqual({
      check: 'secret',
      status: 'not-checked',
      message: 'not checked: namespace "ml" does not exist.',
    });
    expect(inspector.calls.get('get secrets')).toBeUndefined();
  });

  it('checks get pods in the server pod namespace only when the executor inherits from one', async () => {
    const inspector = new FakeInspector({ ...FULL_CLUSTER, denied: ['get pods'] });
    const [alone] = await inspectJobs(inspector, [target('load')]);
    expect(alone?.findings.find((f) => f.check === 'rbac')?.status).toBe('ok');
    const [inPod] = await inspectJobs(
      new FakeInspector({ ...FULL_CLUSTER, denied: ['get pods'] }),
      [target('load')],
      {
        serverPodNamespace: 'mage',
      },
    );
    expect(inPod?.findings.find((f) => f.check === 'rbac')).toMatchObject({
      status: 'fail',
      message: expect.stringMatching(/may not get pods in namespace "mage": the server pod cannot be read/),
    });
  });

  // Each read the identity may not do leaves exactly its check not checked, saying which verb is missing.
  it.each([
    ['secrets', 'secret', 'get on secrets in namespace "ml"'],
    ['configmaps', 'configmap', 'get on configmaps in namespace "ml"'],
    ['serviceaccounts', 'service-account', 'get on serviceaccounts in namespace "ml"'],
    ['persistentvolumeclaims', 'pvc', 'get on persistentvolumeclaims in namespace "ml"'],
    ['namespaces', 'namespace', 'get on namespaces (cluster-wide)'],
    ['resourcequotas', 'quota', 'list on resourcequotas in namespace "ml"'],
    ['limitranges', 'limit-range', 'list on limitranges in namespace "ml"'],
    ['nodes', 'node-fit', 'list on nodes (cluster-wide)'],
    [
      'selfsubjectaccessreviews',
      'rbac',
      'create on selfsubjectaccessreviews.authorization.k8s.io (cluster-wide)',
    ],
    ['jobs', 'dry-run', 'create on jobs.batch in namespace "ml"'],
  ] as const)(
    'without access to %s: %s is not checked (needs %s), the rest is',
    async (resource, check, needs) => {
      const [block] = await inspectJobs(new FakeInspector({ ...FULL_CLUSTER, forbid: [resource] }), [
        target('load'),
      ]);
      const affected = block!.findings.filter((f) => f.check === check);
      expect(affected.length).toBeGreaterThan(0);
      for (const finding of affected) {
        expect(finding.status).toBe('not-checked');
        expect(finding.message).toContain(`not checked: needs ${needs}.`);
      }
      // A secret read refused also leaves the image pull Secret unchecked: it is a Secret too.
      const alsoAffected = resource === 'secrets' ? ['image-pull-secret'] : [];
      const others = block!.findings.filter((f) => f.check !== check && !alsoAffected.includes(f.check));
      expect(others.every((f) => f.status === 'ok')).toBe(true);
      expect(block?.status).toBe('not-checked');
    },
  );

  it('throws when there is no cluster, the credentials are refused, or the API server cannot be reached', async () => {
    const failing = (error: unknown) => {
      const inspector = new FakeInspector(GOOD_CLUSTER);
      inspector.reviewAccess = () => Promise.reject(error);
      return inspectJobs(inspector, [target('load', {})]);
    };
    await expect(failing(new K8sExecutorError('NO_CLUSTER', 'no kubeconfig'))).rejects.toMatchObject({
      code: 'NO_CLUSTER',
    });
    const op = { verb: 'create', resource: 'selfsubjectaccessreviews', group: 'authorization.k8s.io' };
    await expect(
      failing(new ApiError('API_UNAUTHORIZED', '401', { status: 401, operation: op })),
    ).rejects.toMatchObject({
      code: 'API_UNAUTHORIZED',
    });
    await expect(
      failing(new ApiError('API_UNAVAILABLE', 'unreachable', { operation: op, transient: true })),
    ).rejects.toMatchObject({
      code: 'API_UNAVAILABLE',
    });
  });

  it('stops at once when aborted', async () => {
    const controller = new AbortController();
    const inspector = new FakeInspector(GOOD_CLUSTER);
    inspector.reviewAccess = (_attributes: ResourceAttributes, o?: CallOptions) => {
      controller.abort(new Error('stop'));
      return Promise.reject(o?.signal?.reason);
    };
    await expect(inspectJobs(inspector, [target('load', {})], { signal: controller.signal })).rejects.toThrow(
      'stop',
    );
  });
});
