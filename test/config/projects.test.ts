import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { FsConfigSource } from '../../src/adapters/fs/fs-config-source.js';
import { DISRUPTION_POLICY, readPipeline, resolveConfig, validateSnapshot } from '../../src/config/index.js';

const ROOT = 'test/fixtures/projects';
const index = parse(readFileSync(`${ROOT}/index.yaml`, 'utf8')) as Record<
  string,
  { env?: Record<string, string>; expect?: string[] }
>;

async function load(name: string) {
  const source = new FsConfigSource({ projectDir: `${ROOT}/${name}`, env: index[name]?.env ?? {} });
  const [pipeline] = await source.listPipelines();
  return source.load(pipeline);
}

/** Resolves every Job the project would create: each k8s block, and the pipeline when it is k8s. */
async function resolveAll(name: string) {
  const snapshot = await load(name);
  const pipeline = readPipeline(snapshot);
  const run = { pipelineUuid: pipeline.uuid, pipelineRunId: '1', triggerName: 'Nightly Run' };
  const blocks = pipeline.blocks
    .filter((b) => b.executorType === 'k8s')
    .map((b) => ({
      uuid: b.uuid,
      resolved: resolveConfig({
        snapshot,
        mode: 'block',
        identity: { ...run, blockUuid: b.uuid, blockRunId: '2' },
      }),
    }));
  const whole =
    pipeline.executorType === 'k8s'
      ? resolveConfig({ snapshot, mode: 'pipeline', identity: run })
      : undefined;
  return { blocks, whole, byUuid: (uuid: string) => blocks.find((b) => b.uuid === uuid)!.resolved.config };
}

describe('fixture projects (test/fixtures/projects/index.yaml)', () => {
  const names = Object.keys(index);

  it('lists every project folder', () => {
    expect(names.length).toBeGreaterThanOrEqual(20);
  });

  it.each(names.filter((n) => n.startsWith('seed-')))(
    '%s resolves every k8s Job without issues',
    async (name) => {
      expect(validateSnapshot(await load(name))).toEqual([]);
      const { blocks, whole } = await resolveAll(name);
      expect(blocks.length + (whole ? 1 : 0)).toBeGreaterThan(0);
      for (const { resolved } of blocks) expect(resolved.config.container.image).not.toBe('');
    },
  );

  it.each(names.filter((n) => n.startsWith('broken-')))('%s reports the expected problems', async (name) => {
    const codes = validateSnapshot(await load(name)).map((i) => i.code);
    expect(codes.sort()).toEqual([...(index[name]?.expect ?? [])].sort());
  });
});

describe('what the seed examples resolve to', () => {
  it('001 detailed: snake and camel keys mixed, image_pull_secrets as a list, backoff_limit kept', async () => {
    const config = (await resolveAll('seed-001-detailed')).byUuid('load_data');
    expect(config.container.volumeMounts).toEqual([
      { name: 'mage-data', mountPath: '/home/src' },
      { name: 'config', mountPath: '/app/config', readOnly: true },
    ]);
    expect(config.pod?.imagePullSecrets).toEqual([{ name: 'docker-registry-secret' }]);
    expect(config.job).toEqual({
      backoffLimit: 2,
      activeDeadlineSeconds: 3600,
      ttlSecondsAfterFinished: 86400,
      podFailurePolicy: DISRUPTION_POLICY,
    });
    expect(config.metadata?.labels).toEqual({ app: 'mage', environment: 'production' });
  });

  it('001 pipeline level: namespace from env_var, {trigger_name} left for naming', async () => {
    const { whole } = await resolveAll('seed-001-pipeline-level');
    expect(whole?.config.namespace).toBe('data-pipelines');
    expect(whole?.config.jobNamePrefix).toBe('pipeline-{trigger_name}');
  });

  it('002 job template: snake_case volumes and mounts become API fields; preferred affinity kept', async () => {
    const config = (await resolveAll('seed-002-job-template')).byUuid('load_data');
    expect(config.container.name).toBe('mage-data');
    expect(config.pod?.volumes).toEqual([
      { name: 'data-pvc', persistentVolumeClaim: { claimName: 'mage-data-pvc' } },
      { name: 'config-volume', configMap: { name: 'mage-config' } },
      { name: 'secret-volume', secret: { secretName: 'mage-secrets' } },
      { name: 'empty-dir-volume', emptyDir: {} },
    ]);
    expect(config.container.volumeMounts).toContainEqual({
      mountPath: '/etc/secrets',
      name: 'secret-volume',
      readOnly: true,
    });
    expect(config.container.resources).toEqual({
      limits: { cpu: '1', memory: '1Gi', 'nvidia.com/gpu': '1' },
      requests: { cpu: '0.1', memory: '0.5Gi', 'nvidia.com/gpu': '1' },
    });
    expect(config.pod?.affinity).toHaveProperty(
      'nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution',
    );
  });

  it('002 policy with enforce true: the policy wins over the block for the keys it sets', async () => {
    const config = (await resolveAll('seed-002-policy')).byUuid('load_data');
    expect(config.container.resources).toEqual({
      limits: { cpu: '500m', memory: '1Gi' },
      requests: { cpu: '250m', memory: '512Mi' },
    });
    expect(config.pod?.serviceAccountName).toBe('default');
    expect(config.pod?.nodeSelector).toEqual({ 'node-type': 'compute' });
  });

  it('002 env defaults: every K8S_EXECUTOR_DEFAULT_* and KUBE_NAMESPACE applied', async () => {
    const config = (await resolveAll('seed-002-env-defaults')).byUuid('load_data');
    expect(config.namespace).toBe('mage-jobs');
    expect(config.container.resources).toEqual({
      requests: { cpu: '250m', memory: '512Mi' },
      limits: { cpu: '500m', memory: '1Gi' },
    });
  });

  it('003 Metaflow shorthands as block configs', async () => {
    const { byUuid } = await resolveAll('seed-003-metaflow');
    expect(byUuid('basic').container.resources).toEqual({
      requests: { cpu: '2', memory: '4096M', 'ephemeral-storage': '10240M' },
    });
    expect((byUuid('gpu_step').container.resources as { limits?: unknown }).limits).toEqual({
      'nvidia.com/gpu': '1',
    });
    expect(byUuid('node_selection').pod?.nodeSelector).toEqual({
      'kubernetes.io/os': 'linux',
      'kubernetes.io/arch': 'amd64',
    });
    expect(byUuid('custom_image')).toMatchObject({
      namespace: 'ml-team',
      container: {
        image: 'my-registry.example.com/team/image:1.2.3',
        envFrom: [{ secretRef: { name: 'aws-credentials' } }, { secretRef: { name: 'db-credentials' } }],
      },
      pod: { serviceAccountName: 'ml-runner', imagePullSecrets: [{ name: 'registry-credentials' }] },
    });
    expect(byUuid('with_volumes').pod?.volumes).toContainEqual({
      name: 'tmpfs',
      emptyDir: { medium: 'Memory', sizeLimit: '2048Mi' },
    });
    expect(byUuid('secure').container).toMatchObject({
      securityContext: {
        privileged: false,
        allowPrivilegeEscalation: false,
        runAsUser: 1000,
        runAsGroup: 1000,
        runAsNonRoot: true,
      },
      resources: { requests: { cpu: '1', memory: '2048M' }, limits: { cpu: '1', memory: '2048M' } },
      ports: [{ containerPort: 8080 }],
    });
  });
});
