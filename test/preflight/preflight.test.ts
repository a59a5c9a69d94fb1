import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ConfigError } from '../../src/errors/config-error.js';
import { prepareJob } from '../../src/executor/prepare.js';
import type { ServerPod } from '../../src/ports/pod-introspector.js';
import { preflight } from '../../src/preflight/preflight.js';
import { StaticConfigSource } from '../../src/testing/static-config-source.js';
import { type FakeCluster, FakeInspector, forbidden, GOOD_CLUSTER } from './fixtures.js';

const PROJECT = stringify({
  k8s_executor_config: {
    namespace: 'ml',
    container: { image: 'x/y:1', command: ['run', '{{ block_uuid }}'] },
  },
});

/** A project whose pipeline `etl` holds `blocks` (uuid → block keys). */
function project(blocks: Record<string, Record<string, unknown>>, pipeline: Record<string, unknown> = {}) {
  return new StaticConfigSource({
    'metadata.yaml': PROJECT,
    'pipelines/etl/metadata.yaml': stringify({
      ...pipeline,
      blocks: Object.entries(blocks).map(([uuid, block]) => ({ uuid, executor_type: 'k8s', ...block })),
    }),
  });
}

const check = (configSource: StaticConfigSource, cluster: FakeCluster = GOOD_CLUSTER, extra = {}) => {
  const inspector = new FakeInspector(cluster);
  const dryRuns: string[] = [];
  const dryRun = inspector.dryRunCreateJob.bind(inspector);
  inspector.dryRunCreateJob = (namespace, job, options) => {
    dryRuns.push(job.metadata.name ?? '');
    return dryRun(namespace, job, options);
  };
  const report = preflight({ projectDir: '.', pipelineUuid: 'etl', configSource, inspector, ...extra });
  return { report, dryRuns };
};

describe('preflight()', () => {
  it('checks the Job of each block that runs as a Job, built exactly as run builds it', async () => {
    const source = project({ load: {}, notify: { executor_type: 'local_python' }, transform: {} });
    const { report, dryRuns } = check(source);
    const result = await report;
    expect(result).toMatchObject({ pipelineUuid: 'etl', mode: 'dag', ok: true });
    expect(result.blocks.map((b) => [b.block, b.jobName, b.namespace, b.status])).toEqual([
      ['load', 'mage-data-prep-block-preflight-load', 'ml', 'ok'],
      ['transform', 'mage-data-prep-block-preflight-transform', 'ml', 'ok'],
    ]);
    expect(dryRuns).toEqual([
      'mage-data-prep-block-preflight-load',
      'mage-data-prep-block-preflight-transform',
    ]);
    // The same Job as prepareJob (what run calls) gives for the preflight identity.
    const expected = prepareJob({
      snapshot: await source.load('etl'),
      mode: 'block',
      identity: {
        pipelineUuid: 'etl',
        pipelineRunId: 'preflight',
        blockUuid: 'load',
        blockRunId: 'preflight-load',
        attempt: 1,
      },
    });
    const inspector = new FakeInspector();
    let sent: unknown;
    inspector.dryRunCreateJob = async (_ns, job) => {
      sent = job;
      return job;
    };
    await preflight({
      projectDir: '.',
      pipelineUuid: 'etl',
      blockUuid: 'load',
      configSource: source,
      inspector,
    });
    expect(sent).toEqual(expected.job);
  });

  it('checks the Jobs a run with overrides creates: --set and -n for every Job, --set-block for one', async () => {
    const inspector = new FakeInspector({ ...GOOD_CLUSTER, namespaces: ['ml', 'etl'] });
    const sent: Record<string, unknown> = {};
    const dryRun = inspector.dryRunCreateJob.bind(inspector);
    inspector.dryRunCreateJob = (namespace, job, options) => {
      sent[job.metadata.name ?? ''] = {
        namespace,
        cpu: job.spec?.template.spec?.containers[0]?.resources?.requests?.cpu,
      };
      return dryRun(namespace, job, options);
    };
    const report = await preflight({
      projectDir: '.',
      pipelineUuid: 'etl',
      configSource: project({ load: {}, transform: {} }),
      inspector,
      overrides: [{ key: 'namespace', value: 'etl', source: '--namespace etl' }],
      blockOverrides: { transform: [{ key: 'cpu', value: 4, source: '--set-block transform.cpu=4' }] },
    });
    expect(report.blocks.map((b) => [b.block, b.namespace])).toEqual([
      ['load', 'etl'],
      ['transform', 'etl'],
    ]);
    expect(sent).toMatchObject({
      'mage-data-prep-block-preflight-load': { namespace: 'etl' },
      'mage-data-prep-block-preflight-transform': { namespace: 'etl', cpu: '4' },
    });
    await expect(
      preflight({
        projectDir: '.',
        pipelineUuid: 'etl',
        configSource: project({ load: {} }),
        inspector,
        blockOverrides: { lod: { cpu: 4 } },
      }),
    ).rejects.toMatchObject({ issues: [{ code: 'UNKNOWN_BLOCK', path: 'blockOverrides' }] });
  });

  it('checks the one whole-pipeline Job of a single-job run (as run picks the mode)', async () => {
    const source = new StaticConfigSource({
      'metadata.yaml': stringify({
        k8s_executor_config: { namespace: 'ml', image: 'x/y:1', command: 'mage' },
      }),
      'pipelines/etl/metadata.yaml': stringify({
        executor_type: 'k8s',
        run_pipeline_in_one_process: true,
        blocks: [
          { uuid: 'load', executor_type: 'k8s' },
          { uuid: 'transform', executor_type: 'k8s' },
        ],
      }),
    });
    const { report, dryRuns } = check(source);
    expect(await report).toMatchObject({
      mode: 'single-job',
      blocks: [{ block: 'etl', jobName: 'mage-data-prep-pipeline-preflight' }],
    });
    expect(dryRuns).toEqual(['mage-data-prep-pipeline-preflight']);
    const dag = check(source, GOOD_CLUSTER, { mode: 'dag' });
    expect((await dag.report).blocks.map((b) => b.block)).toEqual(['load', 'transform']);
  });

  it('reports a failing block and ok: false', async () => {
    const result = await check(project({ load: {} }), { ...GOOD_CLUSTER, serviceAccounts: [] }).report;
    expect(result.ok).toBe(false);
    expect(result.blocks[0]?.status).toBe('fail');
  });

  it('throws a ConfigError for an unknown block, a block that is no Job, a block in single-job mode, a bad config', async () => {
    const source = project({ load: {}, notify: { executor_type: 'local_python' } });
    const rejects = (extra: object, configSource = source) =>
      expect(check(configSource, GOOD_CLUSTER, extra).report).rejects.toBeInstanceOf(ConfigError);
    await rejects({ blockUuid: 'nope' });
    await expect(check(source, GOOD_CLUSTER, { blockUuid: 'nope' }).report).rejects.toThrow(
      /no block "nope".*"load", "notify"/,
    );
    await expect(check(source, GOOD_CLUSTER, { blockUuid: 'notify' }).report).rejects.toThrow(
      /does not run as a Kubernetes Job/,
    );
    await expect(
      check(source, GOOD_CLUSTER, { blockUuid: 'load', mode: 'single-job' }).report,
    ).rejects.toThrow(/runs as one Job/);
    const bad = project({
      a: { executor_config: { cpu: 'lots' } },
      b: { executor_config: { memory: 'much' } },
    });
    const error = await check(bad).report.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    // Every block's problem at once, as validate reports them.
    expect((error as ConfigError).issues.map((i) => i.code)).toEqual([
      'INVALID_QUANTITY',
      'INVALID_QUANTITY',
    ]);
  });

  it('inherits from the server pod as run does, and checks get pods in its namespace', async () => {
    const serverPod: ServerPod = {
      pod: {
        metadata: { name: 'mage-0', namespace: 'mage' },
        spec: { containers: [{ name: 'mage', image: 'mage/server:1' }], serviceAccountName: 'mage' },
      },
      containerName: 'mage',
    };
    const source = new StaticConfigSource({
      'metadata.yaml': stringify({ k8s_executor_config: { namespace: 'ml' } }),
      'pipelines/etl/metadata.yaml': stringify({ blocks: [{ uuid: 'load', executor_type: 'k8s' }] }),
    });
    const inspector = new FakeInspector({ ...GOOD_CLUSTER, denied: ['get pods'] });
    let image: unknown;
    inspector.dryRunCreateJob = async (_ns, job) => {
      image = job.spec?.template.spec.containers[0]?.image;
      return job;
    };
    const result = await preflight({
      projectDir: '.',
      pipelineUuid: 'etl',
      configSource: source,
      inspector,
      podIntrospector: { currentPod: async () => serverPod },
    });
    expect(image).toBe('mage/server:1');
    expect(result.blocks[0]?.findings.find((f) => f.check === 'rbac')?.message).toMatch(
      /may not get pods in namespace "mage"/,
    );
  });

  it('goes on without inheritance when the server pod may not be read, naming the missing verb', async () => {
    const source = project({ load: {} });
    const denied = forbidden({ verb: 'get', resource: 'pods', group: '', namespace: 'mage', name: 'mage-0' });
    const result = await preflight({
      projectDir: '.',
      pipelineUuid: 'etl',
      configSource: source,
      inspector: new FakeInspector({ ...GOOD_CLUSTER, denied: ['get pods'] }),
      podIntrospector: { currentPod: () => Promise.reject(denied) },
    });
    expect(result.blocks[0]?.findings.find((f) => f.check === 'rbac')).toMatchObject({
      status: 'fail',
      message: expect.stringMatching(/may not get pods in namespace "mage"/),
    });
    const inheritOff = await preflight({
      projectDir: '.',
      pipelineUuid: 'etl',
      configSource: source,
      inspector: new FakeInspector(GOOD_CLUSTER),
      podIntrospector: { currentPod: () => Promise.reject(new Error('must not be asked')) },
      inheritServerPod: false,
    });
    expect(inheritOff.ok).toBe(true);
  });
});
