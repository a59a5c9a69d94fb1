import { describe, expect, it } from 'vitest';
import { parseCliArgs } from '../../src/cli/args.js';
import { explainCommand } from '../../src/cli/explain.js';
import { explainConfig, resolveConfig } from '../../src/config/index.js';
import { writeProject } from '../helpers/project.js';
import { BLOCK_RUN, pipelineWithBlock, projectWith, snapshotOf } from './snapshot-helper.js';

describe('explainConfig', () => {
  const resolved = resolveConfig({
    snapshot: snapshotOf({
      project: projectWith(`image: img:1
labels: {app.kubernetes.io/name: etl}
container:
  env: [{name: API_KEY, value: s3cret}, {name: FROM_SECRET, value_from: {secret_key_ref: {name: s, key: k}}}]
pod:
  tolerations: [{key: a, operator: Exists}]`),
      pipeline: pipelineWithBlock('resource_limits: {cpu: "2"}'),
    }),
    mode: 'block',
    identity: BLOCK_RUN,
  });
  const rows = explainConfig(resolved);

  it('has one row per leaf, keyed item and list, sorted by path', () => {
    expect(rows.map((r) => r.path)).toEqual([
      'container.env[API_KEY]',
      'container.env[FROM_SECRET]',
      'container.env[K8S_EXECUTOR]',
      'container.env[K8S_EXECUTOR_NODE_IP]',
      'container.env[K8S_EXECUTOR_NODE_NAME]',
      'container.env[K8S_EXECUTOR_POD_NAMESPACE]',
      'container.env[K8S_EXECUTOR_POD_NAME]',
      'container.env[K8S_EXECUTOR_POD_UID]',
      'container.env[K8S_EXECUTOR_SERVICE_ACCOUNT]',
      'container.env[K8S_EXECUTOR_TERMINATION_MESSAGE_PATH]',
      'container.image',
      'container.imagePullPolicy',
      'container.name',
      'container.resources.limits.cpu',
      'container.terminationMessagePolicy',
      'job.backoffLimit',
      'job.podFailurePolicy.rules',
      'jobNamePrefix',
      'metadata.labels["app.kubernetes.io/name"]',
      'namespace',
      'pod.restartPolicy',
      'pod.serviceAccountName',
      'pod.tolerations',
    ]);
    expect(Object.keys(resolved.provenance).sort()).toEqual(rows.map((r) => r.path).sort());
  });

  it('says which layer, file, line and user path set each row', () => {
    expect(rows.find((r) => r.path === 'container.resources.limits.cpu')).toEqual({
      path: 'container.resources.limits.cpu',
      value: '2',
      origin: {
        layer: 'block',
        sourcePath: 'blocks[0].executor_config.resource_limits.cpu',
        location: { file: 'proj/pipelines/p/metadata.yaml', line: 6, column: 23 },
      },
    });
    expect(rows.find((r) => r.path === 'namespace')?.origin).toEqual({ layer: 'built-in' });
  });

  it('never shows env values, which may be secrets', () => {
    expect(rows.find((r) => r.path === 'container.env[API_KEY]')?.value).toEqual({
      name: 'API_KEY',
      value: '***',
    });
    expect(JSON.stringify(rows)).not.toContain('s3cret');
    expect(rows.find((r) => r.path === 'container.env[FROM_SECRET]')?.value).toEqual({
      name: 'FROM_SECRET',
      valueFrom: { secretKeyRef: { name: 's', key: 'k' } },
    });
  });

  it('returns a frozen config', () => {
    expect(Object.isFrozen(resolved.config.container)).toBe(true);
  });
});

describe('k8s-executor explain on a terminal', () => {
  it('fits the table to the terminal width by wrapping, never cutting; piped, lines are as long as the cells', async () => {
    const dir = writeProject({
      'metadata.yaml': `executor_type: k8s\nk8s_executor_config:\n  image: ${'registry.example.com/'.repeat(6)}img:1\n`,
      'pipelines/etl/metadata.yaml': 'blocks:\n- uuid: load\n',
    });
    const args = parseCliArgs([
      'explain',
      '--project',
      dir,
      '--pipeline',
      'etl',
      '--block',
      'load',
      '--block-run-id',
      '1',
    ]);
    const narrow = await explainCommand(args, {}, 100);
    expect(Math.max(...narrow.split('\n').map((l) => l.length))).toBeLessThanOrEqual(100);
    expect(narrow).not.toMatch(/…/);
    // The long image wraps: every piece of it is in the table, in order.
    const imageRow = narrow
      .split('\n')
      .filter((l) => l.includes('registry.example.com') || l.includes('img:1'));
    expect(imageRow.length).toBeGreaterThan(1);
    const piped = await explainCommand(args, {}, undefined);
    expect(piped).toContain(`${dir}/metadata.yaml:3 (k8s_executor_config.image)`);
  });
});
