import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parse } from 'yaml';
import { POD_IDENTITY_ENV_NAMES } from '../../src/config/identity-env.js';
import type { Job } from '../../src/types/kube.js';
import { projectWithBlocks, writeProject } from '../helpers/project.js';
import { cli } from './run-cli.js';

afterEach(() => vi.restoreAllMocks());

/** The flags that select block `load` of pipeline `etl` in project `dir`. */
const selectBlock = (dir: string, blockRunId: string) => [
  '--project',
  dir,
  '--pipeline',
  'etl',
  '--block',
  'load',
  '--block-run-id',
  blockRunId,
];

const project = () =>
  projectWithBlocks(`  - uuid: load
    executor_type: k8s
    executor_config:
      resource_limits:
        cpu: "2"
        memory: 1Gi
`);

describe('k8s-executor render', () => {
  it('prints the Job of a block run as YAML, with the default name', async () => {
    const dir = project();
    const { code, stdout, stderr } = await cli(['render', ...selectBlock(dir, '42')]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const job = parse(stdout) as Job;
    expect(job.metadata.name).toBe('mage-data-prep-block-42');
    expect(job.spec!.template.spec.containers[0]!.resources).toEqual({ limits: { cpu: '2', memory: '1Gi' } });
  });

  it('prints JSON with -o json, and the command after -- overrides the config', async () => {
    const dir = project();
    const { code, stdout } = await cli([
      'render',
      ...selectBlock(dir, '42'),
      '-o',
      'json',
      '--',
      'python',
      'run.py',
    ]);
    expect(code).toBe(0);
    const job = JSON.parse(stdout) as Job;
    expect(job.spec!.template.spec.containers[0]!.command).toEqual(['python', 'run.py']);
  });

  it('renders a whole-pipeline Job with --pipeline-run-id', async () => {
    const { code, stdout } = await cli([
      'render',
      '--project',
      project(),
      '--pipeline',
      'etl',
      '--pipeline-run-id',
      '9',
    ]);
    expect(code).toBe(0);
    expect((parse(stdout) as Job).metadata.name).toBe('mage-data-prep-pipeline-9');
  });

  it('inherits from --server-pod', async () => {
    const dir = writeProject({
      'metadata.yaml': 'k8s_executor_config:\n  namespace: ml\n',
      'pipelines/etl/metadata.yaml': 'blocks:\n  - uuid: load\n    executor_type: k8s\n',
      'pod.yaml': `apiVersion: v1
kind: Pod
metadata: {name: mage-server, namespace: ml}
spec:
  containers:
    - name: mage-server
      image: mageai/mageai:0.9.76
      env: [{name: DB_HOST, value: db}]
`,
    });
    const { code, stdout } = await cli([
      'render',
      ...selectBlock(dir, '1'),
      '--server-pod',
      join(dir, 'pod.yaml'),
    ]);
    expect(code).toBe(0);
    const container = (parse(stdout) as Job).spec!.template.spec.containers[0]!;
    expect(container.image).toBe('mageai/mageai:0.9.76');
    // The server pod's env, then the built-in pod identity variables (docs/configuration.md).
    expect(container.env?.[0]).toEqual({ name: 'DB_HOST', value: 'db' });
    expect(container.env?.slice(1).map((e) => e.name)).toEqual(Object.values(POD_IDENTITY_ENV_NAMES));
  });

  it('exits 2 with one clear paragraph and no stack trace on a config error', async () => {
    const dir = projectWithBlocks(`  - uuid: load
    executor_config:
      resource_limit:
        memory: 1Gi
`);
    const { code, stderr } = await cli(['render', ...selectBlock(dir, '1')]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/CONFIG_INVALID/);
    expect(stderr).toMatch(/pipelines\/etl\/metadata\.yaml:\d+/);
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it('checks -o per command', async () => {
    const dir = project();
    const base = selectBlock(dir, '1');
    expect((await cli(['render', ...base, '-o', 'table'])).stderr).toMatch(/prints yaml or json/);
    expect((await cli(['explain', ...base, '-o', 'yaml'])).stderr).toMatch(/prints table or json/);
    expect((await cli(['validate', '--project', dir, '-o', 'json'])).code).toBe(2);
  });

  it('exits 2 on usage errors', async () => {
    expect((await cli(['render', '--project', project()])).code).toBe(2);
    expect((await cli(['frobnicate'])).code).toBe(2);
    expect((await cli(['render', '--nope'])).stderr).toMatch(/USAGE/);
  });
});

describe('k8s-executor explain', () => {
  it('names the layer and file:line of each field', async () => {
    const dir = project();
    const { code, stdout } = await cli(['explain', ...selectBlock(dir, '42')]);
    expect(code).toBe(0);
    const limits = stdout.split('\n').find((l) => l.startsWith('container.resources.limits.cpu'));
    expect(limits).toMatch(/block/);
    expect(limits).toMatch(/metadata\.yaml:\d+/);
    const ns = stdout.split('\n').find((l) => l.startsWith('namespace'));
    expect(ns).toMatch(/built-in/);
  });

  it('prints JSON rows with -o json', async () => {
    const { stdout } = await cli(['explain', ...selectBlock(project(), '42'), '-o', 'json']);
    const parsed = JSON.parse(stdout) as {
      jobName: string;
      fields: { path: string; origin: { layer: string } }[];
    };
    expect(parsed.jobName).toBe('mage-data-prep-block-42');
    expect(parsed.fields.find((f) => f.path === 'container.image')?.origin.layer).toBe('project');
  });
});

describe('k8s-executor validate', () => {
  it('exits 0 on a valid project', async () => {
    const { code, stdout } = await cli(['validate', '--project', project()]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/no problems/);
  });

  it('reports every problem with file:line and exits 1', async () => {
    const dir = projectWithBlocks(`  - uuid: load
    executor_config:
      resource_limits:
        cpu: lots
      namespace: Not_Valid
  - uuid: other
    upstream_blocks: [missing]
`);
    const { code, stderr } = await cli(['validate', '--project', dir]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/INVALID_QUANTITY/);
    expect(stderr).toMatch(/INVALID_NAME/);
    expect(stderr).toMatch(/UNKNOWN_UPSTREAM/);
    expect(stderr).toMatch(/pipelines\/etl\/metadata\.yaml:6/);
  });
});
