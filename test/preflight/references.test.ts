import { describe, expect, it } from 'vitest';
import { ApiError } from '../../src/errors/api-error.js';
import type { StoredKeys } from '../../src/ports/cluster-inspector.js';
import { checkDryRun } from '../../src/preflight/dry-run.js';
import { podViewOf } from '../../src/preflight/pod-spec.js';
import { type Read, readFailed, readOk } from '../../src/preflight/reads.js';
import {
  checkClaims,
  checkImagePullSecrets,
  checkKeyedObjects,
  checkNamespace,
  checkServiceAccount,
} from '../../src/preflight/reference-checks.js';
import { collectReferences } from '../../src/preflight/references.js';
import { container, forbidden, jobWith } from './fixtures.js';

const SPEC = {
  serviceAccountName: 'runner',
  imagePullSecrets: [{ name: 'registry' }, { name: 'registry' }],
  containers: [
    container(
      'main',
      {},
      {
        env: [
          { name: 'PLAIN', value: 'x' },
          { name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } },
          { name: 'MODE', valueFrom: { configMapKeyRef: { name: 'settings', key: 'mode', optional: true } } },
          { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
        ],
        envFrom: [{ secretRef: { name: 'api' } }, { configMapRef: { name: 'common' }, prefix: 'C_' }],
        volumeMounts: [
          { name: 'data', mountPath: '/data', readOnly: true },
          { name: 'scratch', mountPath: '/scratch' },
        ],
      },
    ),
  ],
  initContainers: [
    container('setup', {}, { envFrom: [{ secretRef: { name: 'setup-creds', optional: true } }] }),
  ],
  volumes: [
    { name: 'creds', secret: { secretName: 'tls', items: [{ key: 'tls.crt', path: 'c' }] } },
    { name: 'conf', configMap: { name: 'app-config' } },
    {
      name: 'bundle',
      projected: {
        sources: [
          { secret: { name: 'token' } },
          { configMap: { name: 'ca', items: [{ key: 'ca.crt', path: 'ca' }] } },
          { serviceAccountToken: { path: 't' } },
        ],
      },
    },
    { name: 'data', persistentVolumeClaim: { claimName: 'datasets' } },
    { name: 'scratch', persistentVolumeClaim: { claimName: 'scratch-space' } },
  ],
};

describe('references collected from a Job', () => {
  it('finds every Secret, ConfigMap, claim and image pull Secret, with keys, optional and where', () => {
    const refs = collectReferences(podViewOf(jobWith(SPEC)));
    expect(refs.serviceAccountName).toBe('runner');
    expect(refs.imagePullSecrets).toEqual(['registry']);
    expect(refs.secrets).toEqual([
      {
        kind: 'Secret',
        name: 'db',
        keys: ['password'],
        optional: false,
        effect: 'env',
        where: 'env DB_PASSWORD of container "main"',
      },
      {
        kind: 'Secret',
        name: 'api',
        keys: [],
        optional: false,
        effect: 'env',
        where: 'envFrom of container "main"',
      },
      {
        kind: 'Secret',
        name: 'setup-creds',
        keys: [],
        optional: true,
        effect: 'env',
        where: 'envFrom of init container "setup"',
      },
      {
        kind: 'Secret',
        name: 'tls',
        keys: ['tls.crt'],
        optional: false,
        effect: 'volume',
        where: 'volume "creds"',
      },
      {
        kind: 'Secret',
        name: 'token',
        keys: [],
        optional: false,
        effect: 'volume',
        where: 'projected volume "bundle"',
      },
    ]);
    expect(refs.configMaps.map((c) => [c.name, c.keys, c.optional, c.where])).toEqual([
      ['settings', ['mode'], true, 'env MODE of container "main"'],
      ['common', [], false, 'envFrom of container "main"'],
      ['app-config', [], false, 'volume "conf"'],
      ['ca', ['ca.crt'], false, 'projected volume "bundle"'],
    ]);
    expect(refs.claims).toEqual([
      { name: 'datasets', readOnly: true, where: 'volume "data"' },
      { name: 'scratch-space', readOnly: false, where: 'volume "scratch"' },
    ]);
  });

  it('defaults the service account to "default"', () => {
    expect(collectReferences(podViewOf(jobWith())).serviceAccountName).toBe('default');
  });
});

describe('referenced objects', () => {
  const refs = collectReferences(podViewOf(jobWith(SPEC)));
  const secretsOk = new Map<string, Read<StoredKeys | undefined>>([
    ['db', readOk({ name: 'db', keys: ['password', 'user'] })],
    ['api', readOk({ name: 'api', keys: ['token'] })],
    ['setup-creds', readOk(undefined)],
    ['tls', readOk({ name: 'tls', keys: ['tls.key'] })],
    ['token', readOk(undefined)],
  ]);

  it('fails a missing object or key that a reference needs, warns for an optional one', () => {
    const findings = checkKeyedObjects('ml', refs.secrets, secretsOk);
    expect(findings.map((f) => [f.status, f.message])).toEqual([
      ['ok', 'Secret "db" in namespace "ml" exists with key "password".'],
      ['ok', 'Secret "api" in namespace "ml" exists.'],
      [
        'warn',
        'Secret "setup-creds" in namespace "ml" does not exist; every reference to it is optional (envFrom of init container "setup"), so the pod starts without it.',
      ],
      [
        'fail',
        'Secret "tls" in namespace "ml" has no key "tls.crt" (used by volume "creds"; its keys: tls.key): the volume would not mount (FailedMount) and the pod stays in ContainerCreating.',
      ],
      [
        'fail',
        'Secret "token" in namespace "ml" does not exist (used by projected volume "bundle"): the volume would not mount (FailedMount) and the pod stays in ContainerCreating.',
      ],
    ]);
    const missingEnv = checkKeyedObjects(
      'ml',
      refs.secrets.slice(0, 1),
      new Map([['db', readOk(undefined)]]),
    );
    expect(missingEnv[0]?.message).toMatch(/CreateContainerConfigError.*CONTAINER_CONFIG_ERROR/);
    expect(missingEnv[0]?.fix).toMatch(/create it in namespace "ml"/);
  });

  it('says "not checked: needs get on secrets" when the read was forbidden', () => {
    const denied = readFailed<StoredKeys | undefined>(
      forbidden({ verb: 'get', resource: 'secrets', group: '', namespace: 'ml', name: 'db' }),
    );
    const [finding] = checkKeyedObjects('ml', refs.secrets.slice(0, 1), new Map([['db', denied]]));
    expect(finding).toMatchObject({
      check: 'secret',
      status: 'not-checked',
      message: 'Secret "db" in namespace "ml": not checked: needs get on secrets in namespace "ml".',
    });
  });

  it('checks image pull Secrets: missing or of the wrong type is a warning', () => {
    const read = (value: { keys: string[]; type: string } | undefined) =>
      new Map([['registry', readOk(value && { name: 'registry', ...value })]]);
    expect(
      checkImagePullSecrets(
        'ml',
        ['registry'],
        read({ keys: ['.dockerconfigjson'], type: 'kubernetes.io/dockerconfigjson' }),
      )[0]?.status,
    ).toBe('ok');
    expect(checkImagePullSecrets('ml', ['registry'], read(undefined))[0]).toMatchObject({
      status: 'warn',
      message: expect.stringMatching(/kubelet pulls the image without it.*IMAGE_PULL_FAILED/),
    });
    expect(
      checkImagePullSecrets('ml', ['registry'], read({ keys: ['a'], type: 'Opaque' }))[0]?.message,
    ).toMatch(/of type Opaque/);
  });

  it('checks claims: missing or Lost fails, Pending warns, sharing a ReadWriteOnce claim warns', () => {
    const claim = (phase: string, accessModes = ['ReadWriteOnce']) =>
      readOk({ metadata: { name: 'c' }, status: { phase, accessModes } });
    const one = [{ name: 'c', readOnly: false, where: 'volume "v"' }];
    const of = (
      read: ReturnType<typeof claim> | ReturnType<typeof readOk<undefined>>,
      shared: string[] = [],
    ) => checkClaims('ml', one, new Map([['c', read]]), new Map([['c', shared]]))[0];
    expect(of(claim('Bound'))).toMatchObject({
      status: 'ok',
      message: 'PersistentVolumeClaim "c" in namespace "ml" is Bound (ReadWriteOnce).',
    });
    expect(of(readOk(undefined))).toMatchObject({
      status: 'fail',
      message: expect.stringMatching(/does not exist.*UNSCHEDULABLE/),
    });
    expect(of(claim('Lost'))?.status).toBe('fail');
    expect(of(claim('Pending'))).toMatchObject({
      status: 'warn',
      message: expect.stringMatching(/Pending, not Bound.*WaitForFirstConsumer/),
    });
    expect(of(claim('Bound'), ['transform'])?.message).toBe(
      'PersistentVolumeClaim "c" in namespace "ml" is ReadWriteOnce and block transform mounts it too: pods on one node only may use it at once, so blocks that run at the same time may wait for each other (Pending).',
    );
    expect(of(claim('Bound', ['ReadWriteMany']), ['transform'])?.status).toBe('ok');
    expect(of(claim('Bound', ['ReadWriteOncePod']), ['a', 'b'])?.message).toMatch(
      /blocks a, b mount it too: only one pod at a time/,
    );
    const readOnly = [{ name: 'c', readOnly: true, where: 'volume "v"' }];
    expect(
      checkClaims(
        'ml',
        readOnly,
        new Map([['c', claim('Bound', ['ReadOnlyMany'])]]),
        new Map([['c', ['x']]]),
      )[0]?.status,
    ).toBe('ok');
  });

  it('checks the namespace and the service account', () => {
    expect(checkNamespace('ml', readOk({ metadata: { name: 'ml' } })).status).toBe('ok');
    expect(checkNamespace('gone', readOk(undefined))).toMatchObject({
      status: 'fail',
      fix: expect.stringMatching(/kubectl create namespace gone/),
    });
    expect(
      checkNamespace(
        'ml',
        readFailed(forbidden({ verb: 'get', resource: 'namespaces', group: '', name: 'ml' })),
      ).message,
    ).toBe('namespace "ml": not checked: needs get on namespaces (cluster-wide).');
    expect(checkServiceAccount('ml', 'runner', readOk(undefined))).toMatchObject({
      status: 'fail',
      message: expect.stringMatching(
        /^ServiceAccount "runner" in namespace "ml" does not exist: .*POD_CREATE_FAILED/,
      ),
    });
  });
});

describe('the server-side dry run', () => {
  const op = { verb: 'create', resource: 'jobs', group: 'batch', namespace: 'ml', name: 'j' };
  const check = (error: unknown) => checkDryRun('j', 'ml', readFailed(error));

  it('passes an accepted Job and quotes the API server when it refuses one', () => {
    expect(checkDryRun('j', 'ml', readOk(jobWith())).status).toBe('ok');
    const invalid = new ApiError(
      'API_INVALID',
      'The API server rejected ... (422 Invalid): spec.template.spec.containers[0].image: Required value.',
      {
        status: 422,
        operation: op,
      },
    );
    expect(check(invalid)).toMatchObject({
      status: 'fail',
      message: `the API server refuses the Job: ${invalid.message}`,
    });
  });

  it('takes an admission 403 (exceeded quota) as a refusal, and an RBAC 403 as not checked', () => {
    const quotaDenied = new ApiError(
      'API_FORBIDDEN',
      'Forbidden (403): ... The server said: jobs.batch "j" is forbidden: exceeded quota: jobs, requested: count/jobs.batch=1, used: count/jobs.batch=1, limited: count/jobs.batch=1',
      { status: 403, operation: op },
    );
    expect(check(quotaDenied)).toMatchObject({
      status: 'fail',
      message:
        'the API server refuses the Job: jobs.batch "j" is forbidden: exceeded quota: jobs, requested: count/jobs.batch=1, used: count/jobs.batch=1, limited: count/jobs.batch=1',
    });
    expect(check(forbidden(op))).toMatchObject({
      status: 'not-checked',
      message:
        'the server-side dry run of Job "j" in namespace "ml": not checked: needs create on jobs.batch in namespace "ml".',
    });
  });

  it('reports a webhook that refuses dry runs as not checked', () => {
    const webhook = new ApiError(
      'API_INVALID',
      'The API server rejected ... (400 BadRequest). The server said: admission webhook "audit.example.com" does not support dry run',
      { status: 400, operation: op },
    );
    expect(check(webhook)).toMatchObject({
      status: 'not-checked',
      message: expect.stringMatching(/an admission webhook does not support dry runs/),
    });
    expect(check(new ApiError('API_CONFLICT', 'exists', { status: 409, operation: op })).status).toBe(
      'not-checked',
    );
    expect(check(new Error('boom'))).toMatchObject({
      status: 'not-checked',
      message: expect.stringMatching(/not checked: boom$/),
    });
  });
});
