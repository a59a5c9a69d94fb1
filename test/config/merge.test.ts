import { describe, expect, it } from 'vitest';
import { POD_IDENTITY_ENV } from '../../src/config/identity-env.js';
import { DISRUPTION_POLICY, resolveConfig } from '../../src/config/index.js';
import { ConfigError } from '../../src/errors/config-error.js';
import type { ServerPod } from '../../src/ports/pod-introspector.js';
import {
  BLOCK_RUN,
  pipelineWithBlock,
  projectWith,
  type SnapshotFiles,
  snapshotOf,
} from './snapshot-helper.js';

const IMAGE = 'image: img:1';

function resolve(files: SnapshotFiles, extra: { mode?: 'block' | 'pipeline'; serverPod?: ServerPod } = {}) {
  return resolveConfig({
    snapshot: snapshotOf({ pipeline: pipelineWithBlock(''), ...files }),
    mode: extra.mode ?? 'block',
    identity: BLOCK_RUN,
    ...(extra.serverPod ? { serverPod: extra.serverPod } : {}),
  });
}

describe('layer priority (a scalar set in several layers)', () => {
  const at = (layer: string) => `namespace: from-${layer}`;
  const cases: [string, SnapshotFiles, 'block' | 'pipeline', string, string][] = [
    ['built-in only', { project: projectWith(IMAGE) }, 'block', 'default', 'built-in'],
    [
      'env defaults over built-in',
      { project: projectWith(IMAGE), env: { KUBE_NAMESPACE: 'from-env' } },
      'block',
      'from-env',
      'env-defaults',
    ],
    [
      'template over env defaults',
      { project: projectWith(IMAGE), template: at('template'), env: { KUBE_NAMESPACE: 'x' } },
      'block',
      'from-template',
      'template',
    ],
    [
      'project over template',
      { project: projectWith(`${IMAGE}\n${at('project')}`), template: at('template') },
      'block',
      'from-project',
      'project',
    ],
    [
      'pipeline over project (also for block runs)',
      { project: projectWith(`${IMAGE}\n${at('project')}`), pipeline: pipelineWithBlock('', at('pipeline')) },
      'block',
      'from-pipeline',
      'pipeline',
    ],
    [
      'block over pipeline',
      { project: projectWith(IMAGE), pipeline: pipelineWithBlock(at('block'), at('pipeline')) },
      'block',
      'from-block',
      'block',
    ],
    [
      'no block layer in pipeline mode',
      { project: projectWith(IMAGE), pipeline: pipelineWithBlock(at('block'), at('pipeline')) },
      'pipeline',
      'from-pipeline',
      'pipeline',
    ],
    [
      'policy enforce true over block',
      {
        project: projectWith(IMAGE),
        pipeline: pipelineWithBlock(at('block')),
        policy: `enforce: true\n${at('policy')}`,
      },
      'block',
      'from-policy',
      'policy',
    ],
    [
      'policy enforce false under template',
      { project: projectWith(IMAGE), template: at('template'), policy: `enforce: false\n${at('policy')}` },
      'block',
      'from-template',
      'template',
    ],
    [
      'policy enforce false over env defaults',
      {
        project: projectWith(IMAGE),
        env: { KUBE_NAMESPACE: 'x' },
        policy: `enforce: false\n${at('policy')}`,
      },
      'block',
      'from-policy',
      'policy',
    ],
    [
      'policy without enforce fills gaps only',
      { project: projectWith(`${IMAGE}\n${at('project')}`), policy: at('policy') },
      'block',
      'from-project',
      'project',
    ],
    [
      'policy enabled false is absent',
      { project: projectWith(IMAGE), policy: `enabled: false\nenforce: true\n${at('policy')}` },
      'block',
      'default',
      'built-in',
    ],
  ];
  it.each(cases)('%s', (_name, files, mode, namespace, layer) => {
    const { config, provenance } = resolve(files, { mode });
    expect(config.namespace).toBe(namespace);
    expect(provenance.namespace?.layer).toBe(layer);
  });
});

describe('merge rules per field kind', () => {
  it('merges maps key by key at every depth, with provenance per leaf', () => {
    const { config, provenance } = resolve({
      project: projectWith(`${IMAGE}\nresource_limits: {cpu: "1", memory: 1Gi}\nlabels: {team: a}`),
      pipeline: pipelineWithBlock(
        'container: {resources: {limits: {memory: 2Gi}}}\nmetadata: {labels: {app.kubernetes.io/name: etl}}',
      ),
    });
    expect(config.container.resources).toEqual({ limits: { cpu: '1', memory: '2Gi' } });
    expect(config.metadata?.labels).toEqual({ team: 'a', 'app.kubernetes.io/name': 'etl' });
    expect(provenance['container.resources.limits.cpu']).toMatchObject({
      layer: 'project',
      sourcePath: 'k8s_executor_config.resource_limits.cpu',
      location: { file: 'proj/metadata.yaml', line: 4 },
    });
    expect(provenance['container.resources.limits.memory']).toMatchObject({
      layer: 'block',
      sourcePath: 'blocks[0].executor_config.container.resources.limits.memory',
    });
    expect(provenance['metadata.labels["app.kubernetes.io/name"]']?.layer).toBe('block');
  });

  it('merges env by name, the higher layer winning per name, keeping the lower order', () => {
    const { config, provenance } = resolve({
      project: projectWith(`${IMAGE}\ncontainer:\n  env: [{name: A, value: "1"}, {name: B, value: "1"}]`),
      pipeline: pipelineWithBlock(
        'container:\n  env: [{name: B, value_from: {secret_key_ref: {name: s, key: k}}}, {name: C, value: "3"}]',
      ),
    });
    expect(config.container.env).toEqual([
      { name: 'A', value: '1' },
      { name: 'B', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } },
      { name: 'C', value: '3' },
      ...POD_IDENTITY_ENV,
    ]);
    expect(provenance['container.env[A]']?.layer).toBe('project');
    expect(provenance['container.env[B]']?.layer).toBe('block');
  });

  it('merges volumeMounts by mountPath, ports by containerPort, envFrom by reference, volumes and imagePullSecrets by name', () => {
    const { config } = resolve({
      project: projectWith(`${IMAGE}
container:
  volume_mounts: [{name: a, mount_path: /data}, {name: b, mount_path: /b}]
  ports: [{container_port: 80, name: http}]
  env_from: [{secret_ref: {name: s1}}, {config_map_ref: {name: c1}, prefix: P_}]
pod:
  volumes: [{name: a, empty_dir: {}}, {name: b, empty_dir: {}}, {name: c, empty_dir: {}}]
  image_pull_secrets: [r1]`),
      pipeline: pipelineWithBlock(`container:
  volume_mounts: [{name: c, mount_path: /data}]
  ports: [{container_port: 80, name: web}, {container_port: 81}]
  env_from: [{secret_ref: {name: s1, optional: true}}, {config_map_ref: {name: c1}}]
pod:
  volumes: [{name: a, persistent_volume_claim: {claim_name: pvc}}]
  image_pull_secrets: r2`),
    });
    expect(config.container.volumeMounts).toEqual([
      { name: 'c', mountPath: '/data' },
      { name: 'b', mountPath: '/b' },
    ]);
    expect(config.container.ports).toEqual([{ containerPort: 80, name: 'web' }, { containerPort: 81 }]);
    expect(config.container.envFrom).toEqual([
      { secretRef: { name: 's1', optional: true } },
      { configMapRef: { name: 'c1' }, prefix: 'P_' },
      { configMapRef: { name: 'c1' } },
    ]);
    expect(config.pod?.volumes).toEqual([
      { name: 'a', persistentVolumeClaim: { claimName: 'pvc' } },
      { name: 'b', emptyDir: {} },
      { name: 'c', emptyDir: {} },
    ]);
    expect(config.pod?.imagePullSecrets).toEqual([{ name: 'r1' }, { name: 'r2' }]);
  });

  it('replaces other lists whole (tolerations, command, args, affinity terms)', () => {
    const { config, provenance } = resolve({
      project: projectWith(`${IMAGE}
container: {command: [python, a.py], args: [--x]}
pod:
  tolerations: [{key: a, operator: Exists}, {key: b, operator: Exists}]`),
      pipeline: pipelineWithBlock('container: {command: [bash]}\ntolerations: [{key: c, operator: Exists}]'),
    });
    expect(config.pod?.tolerations).toEqual([{ key: 'c', operator: 'Exists' }]);
    expect(config.container.command).toEqual(['bash']);
    expect(config.container.args).toEqual(['--x']);
    expect(provenance['pod.tolerations']).toMatchObject({
      layer: 'block',
      sourcePath: 'blocks[0].executor_config.tolerations',
    });
  });

  it('removes a key with an explicit !remove, lower layers included', () => {
    const { config, provenance } = resolve({
      env: {
        K8S_EXECUTOR_DEFAULT_RESOURCE_LIMITS_CPU: '2',
        K8S_EXECUTOR_DEFAULT_RESOURCE_LIMITS_MEMORY: '1Gi',
      },
      project: projectWith(
        `${IMAGE}\npod: {node_selector: {pool: a}, tolerations: [{key: a, operator: Exists}]}`,
      ),
      pipeline: pipelineWithBlock(
        'pod: {node_selector: !remove, tolerations: !remove}\nresource_limits: {cpu: !remove}',
      ),
    });
    expect(config.pod?.nodeSelector).toBeUndefined();
    expect(config.pod?.tolerations).toBeUndefined();
    expect(config.container.resources).toEqual({ limits: { memory: '1Gi' } });
    expect(Object.keys(provenance).filter((k) => k.startsWith('pod.nodeSelector'))).toEqual([]);
  });

  it('lets a higher layer set again what a lower one removed', () => {
    const { config } = resolve({
      project: projectWith(`${IMAGE}\ncontainer: {resources: !remove}`),
      pipeline: pipelineWithBlock('cpu: 1'),
      env: { K8S_EXECUTOR_DEFAULT_RESOURCE_REQUESTS_MEMORY: '1Gi' },
    });
    expect(config.container.resources).toEqual({ requests: { cpu: '1' } });
  });
});

describe('env defaults and built-ins', () => {
  it('maps every env default to its field and keeps the built-ins', () => {
    const { config, provenance } = resolve({
      project: projectWith(IMAGE),
      env: {
        KUBE_NAMESPACE: 'mage',
        K8S_EXECUTOR_DEFAULT_RESOURCE_REQUESTS_CPU: '250m',
        K8S_EXECUTOR_DEFAULT_RESOURCE_REQUESTS_MEMORY: '512Mi',
        K8S_EXECUTOR_DEFAULT_RESOURCE_LIMITS_CPU: '500m',
        K8S_EXECUTOR_DEFAULT_RESOURCE_LIMITS_MEMORY: '1Gi',
        K8S_EXECUTOR_DEFAULT_SERVICE_ACCOUNT_NAME: 'runner',
      },
    });
    expect(config).toEqual({
      namespace: 'mage',
      jobNamePrefix: 'data-prep',
      container: {
        name: 'mage-job-container',
        image: 'img:1',
        imagePullPolicy: 'IfNotPresent',
        terminationMessagePolicy: 'FallbackToLogsOnError',
        env: POD_IDENTITY_ENV,
        resources: { requests: { cpu: '250m', memory: '512Mi' }, limits: { cpu: '500m', memory: '1Gi' } },
      },
      pod: { restartPolicy: 'Never', serviceAccountName: 'runner' },
      job: { backoffLimit: 0, podFailurePolicy: DISRUPTION_POLICY },
    });
    expect(provenance['pod.serviceAccountName']).toEqual({
      layer: 'env-defaults',
      sourcePath: '$K8S_EXECUTOR_DEFAULT_SERVICE_ACCOUNT_NAME',
    });
    expect(provenance['job.backoffLimit']).toEqual({ layer: 'built-in' });
  });

  it('ignores empty env values', () => {
    const { config } = resolve({ project: projectWith(IMAGE), env: { KUBE_NAMESPACE: '' } });
    expect(config.namespace).toBe('default');
  });
});

describe('policy', () => {
  const policy = (enforce: boolean) => `enforce: ${enforce}
resource_limits: {cpu: 500m}
pod: {node_selector: {pool: shared}}`;
  const files = (enforce: boolean): SnapshotFiles => ({
    project: projectWith(`${IMAGE}\nresource_limits: {cpu: "4", memory: 8Gi}`),
    pipeline: pipelineWithBlock('resource_limits: {cpu: "8"}\nnode_selector: {pool: gpu, zone: a}'),
    policy: policy(enforce),
  });

  it('with enforce true wins for every key it sets, and only those', () => {
    const { config, provenance } = resolve(files(true));
    expect(config.container.resources).toEqual({ limits: { cpu: '500m', memory: '8Gi' } });
    expect(config.pod?.nodeSelector).toEqual({ pool: 'shared', zone: 'a' });
    expect(provenance['container.resources.limits.cpu']).toMatchObject({
      layer: 'policy',
      location: { file: 'policy.yaml', line: 2 },
    });
  });

  it('with enforce false only fills gaps', () => {
    const { config } = resolve({ ...files(false), pipeline: pipelineWithBlock('') });
    expect(config.container.resources).toEqual({ limits: { cpu: '4', memory: '8Gi' } });
    expect(config.pod?.nodeSelector).toEqual({ pool: 'shared' });
  });

  it('reports enabled/enforce that are not booleans', () => {
    expect(() => resolve({ project: projectWith(IMAGE), policy: 'enforce: maybe\nnamespace: x' })).toThrow(
      /policy.yaml:1: enforce: expected true or false/,
    );
  });
});

describe('K8S_CONFIG_FILE template', () => {
  it("accepts Mage's k8s_executor_config wrapper and flags keys outside it", () => {
    const error = captureError(() =>
      resolve({
        project: projectWith(IMAGE),
        template: 'namespace: outside\nk8s_executor_config:\n  namespace: wrapped',
      }),
    );
    expect(error.issues).toEqual([
      expect.objectContaining({
        code: 'UNKNOWN_KEY',
        path: 'namespace',
        location: { file: 'template.yaml', line: 1, column: 1 },
      }),
    ]);
    const { config, provenance } = resolve({
      project: projectWith(IMAGE),
      template: 'k8s_executor_config:\n  namespace: wrapped',
    });
    expect(config.namespace).toBe('wrapped');
    expect(provenance.namespace?.sourcePath).toBe('k8s_executor_config.namespace');
  });
});

describe('server pod inheritance', () => {
  const serverPod: ServerPod = {
    containerName: 'mage-server',
    pod: {
      metadata: { name: 'mage-0' },
      spec: {
        containers: [
          { name: 'sidecar', image: 'proxy:1', env: [{ name: 'SIDE', value: '1' }] },
          {
            name: 'mage-server',
            image: 'mageai/mageai:0.9.76',
            env: [
              { name: 'USER_CODE_PATH', value: '/home/src/proj' },
              { name: 'FOO', value: 'server' },
            ],
            envFrom: [{ secretRef: { name: 'mage-secrets' } }],
            volumeMounts: [
              { name: 'code', mountPath: '/home/src' },
              {
                name: 'kube-api-access-x',
                mountPath: '/var/run/secrets/kubernetes.io/serviceaccount',
                readOnly: true,
              },
            ],
          },
        ],
        volumes: [
          { name: 'code', persistentVolumeClaim: { claimName: 'mage-code' } },
          { name: 'unused', emptyDir: {} },
          { name: 'kube-api-access-x', projected: { sources: [] } },
        ],
        tolerations: [{ key: 'server', operator: 'Exists' }],
        nodeSelector: { pool: 'server' },
        schedulerName: 'server-sched',
        imagePullSecrets: [{ name: 'server-regcred' }],
        serviceAccountName: 'mage-server-sa',
      },
    },
  };

  it('inherits image, env, envFrom, mounts, used volumes and scheduling; never the service account', () => {
    const { config, provenance } = resolve(
      {
        project: projectWith(
          'container: {env: [{name: FOO, value: job}]}\npod: {volumes: [{name: scratch, empty_dir: {}}]}',
        ),
      },
      { serverPod },
    );
    expect(config.container.image).toBe('mageai/mageai:0.9.76');
    expect(config.container.env).toEqual([
      { name: 'USER_CODE_PATH', value: '/home/src/proj' },
      { name: 'FOO', value: 'job' },
      ...POD_IDENTITY_ENV,
    ]);
    expect(config.container.envFrom).toEqual([{ secretRef: { name: 'mage-secrets' } }]);
    expect(config.container.volumeMounts).toEqual([{ name: 'code', mountPath: '/home/src' }]);
    expect(config.pod).toMatchObject({
      volumes: [
        { name: 'code', persistentVolumeClaim: { claimName: 'mage-code' } },
        { name: 'scratch', emptyDir: {} },
      ],
      tolerations: [{ key: 'server', operator: 'Exists' }],
      nodeSelector: { pool: 'server' },
      schedulerName: 'server-sched',
      imagePullSecrets: [{ name: 'server-regcred' }],
      serviceAccountName: 'default',
    });
    expect(provenance['container.image']).toEqual({
      layer: 'server-pod',
      sourcePath: 'pod/mage-0:spec.containers[mage-server].image',
    });
    expect(provenance['container.env[FOO]']?.layer).toBe('project');
  });

  it('inherits tolerations, nodeSelector, schedulerName and imagePullSecrets only where the config leaves them unset', () => {
    const { config } = resolve(
      {
        project: projectWith(
          `${IMAGE}\npod: {node_selector: {gpu: "true"}, tolerations: [], image_pull_secrets: mine, scheduler_name: !remove}`,
        ),
      },
      { serverPod },
    );
    expect(config.container.image).toBe('img:1');
    expect(config.pod?.nodeSelector).toEqual({ gpu: 'true' });
    expect(config.pod?.tolerations).toEqual([]);
    expect(config.pod?.imagePullSecrets).toEqual([{ name: 'mine' }]);
    expect(config.pod?.schedulerName).toBeUndefined();
  });

  it('keeps an inherited volume when a config mount uses it, and falls back to the first container', () => {
    const { config } = resolve(
      { project: projectWith('container: {volume_mounts: [{name: unused, mount_path: /u}]}') },
      { serverPod: { ...serverPod, containerName: 'missing' } },
    );
    expect(config.container.image).toBe('proxy:1');
    expect(config.container.env).toEqual([{ name: 'SIDE', value: '1' }, ...POD_IDENTITY_ENV]);
    expect(config.pod?.volumes).toEqual([{ name: 'unused', emptyDir: {} }]);
  });

  it('can be switched off', () => {
    const { config } = resolve(
      { project: projectWith(`${IMAGE}\ninherit_server_pod: false`) },
      { serverPod },
    );
    expect(config.container.image).toBe('img:1');
    expect(config.container.env).toEqual(POD_IDENTITY_ENV);
    expect(config.pod?.nodeSelector).toBeUndefined();
  });
});

function captureError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}
