import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseCliArgs } from '../../src/cli/args.js';
import { ConfigError } from '../../src/errors/config-error.js';
import { K8sPipelineExecutor } from '../../src/executor/pipeline-executor.js';
import { CONFIG_FIELDS_ANNOTATION, CONFIG_HASH_ANNOTATION } from '../../src/spec/drift.js';
import { InMemoryJobClient } from '../../src/testing/in-memory-job-client.js';
import { StaticConfigSource } from '../../src/testing/static-config-source.js';
import type { Job } from '../../src/types/kube.js';
import { projectWithBlocks } from '../helpers/project.js';
import { cli } from './run-cli.js';

afterEach(() => vi.restoreAllMocks());

const project = () =>
  projectWithBlocks(`  - uuid: load
    executor_type: k8s
    executor_config:
      resource_limits: {cpu: "2", memory: 1Gi}
  - uuid: report
    executor_type: k8s
    upstream_blocks: [load]
`);

const select = (dir: string, block = 'load') => [
  '--project',
  dir,
  '--pipeline',
  'etl',
  '--block',
  block,
  '--block-run-id',
  '42',
];

async function render(argv: string[], env: Record<string, string> = {}): Promise<Job> {
  const { code, stdout, stderr } = await cli(['render', ...argv, '-o', 'json'], env);
  expect(stderr).toBe('');
  expect(code).toBe(0);
  return JSON.parse(stdout) as Job;
}

/** Every leaf path where two JSON values differ. */
function differences(a: unknown, b: unknown, path = '$'): string[] {
  if (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].flatMap((k) =>
      differences((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`),
    );
  }
  return a === b ? [] : [path];
}

describe('render --set', () => {
  it('--set cpu=4 changes exactly that field (and the config record that describes the pod template)', async () => {
    const dir = projectWithBlocks('  - uuid: load\n    executor_type: k8s\n');
    const before = await render(select(dir));
    const after = await render([...select(dir), '--set', 'cpu=4']);
    expect(differences(before, after).sort()).toEqual([
      `$.metadata.annotations.${CONFIG_FIELDS_ANNOTATION}`,
      `$.metadata.annotations.${CONFIG_HASH_ANNOTATION}`,
      '$.spec.template.spec.containers.0.resources',
    ]);
    expect(after.spec!.template.spec.containers[0]!.resources).toEqual({ requests: { cpu: '4' } });
    const fields = (job: Job) =>
      JSON.parse(job.metadata.annotations![CONFIG_FIELDS_ANNOTATION]!) as Record<string, string>;
    expect(fields(after)).toEqual({ ...fields(before), 'container.resources.requests.cpu': '4' });
  });

  it('types values as YAML does, through the same normalization as files', async () => {
    const job = await render([
      ...select(project()),
      '--set',
      'job.backoff_limit=3',
      '--set',
      'container.resources.limits.memory=8Gi',
      '--set',
      'memory=4096',
      '--set',
      'node_selector=pool=gpu',
      '--set',
      'labels["app.kubernetes.io/part-of"]=etl',
      '--set',
      'tolerations=[{key: gpu, operator: Exists}]',
    ]);
    expect(job.spec!.backoffLimit).toBe(3);
    expect(job.spec!.template.spec.containers[0]!.resources).toEqual({
      limits: { cpu: '2', memory: '8Gi' },
      requests: { memory: '4096M' },
    });
    expect(job.spec!.template.spec.nodeSelector).toEqual({ pool: 'gpu' });
    expect(job.spec!.template.spec.tolerations).toEqual([{ key: 'gpu', operator: 'Exists' }]);
    expect(job.metadata.labels!['app.kubernetes.io/part-of']).toBe('etl');
  });

  it("--set-block applies to its block only, after --set; --set applies to every block's Job", async () => {
    const dir = project();
    const flags = ['--set', 'memory=512', '--set-block', 'load.memory=256', '--set-block', 'load.cpu=1'];
    const load = await render([...select(dir, 'load'), ...flags]);
    const report = await render([...select(dir, 'report'), ...flags]);
    expect(load.spec!.template.spec.containers[0]!.resources!.requests).toEqual({ cpu: '1', memory: '256M' });
    expect(report.spec!.template.spec.containers[0]!.resources!.requests).toEqual({ memory: '512M' });
  });

  it('applies to the whole-pipeline Job', async () => {
    const job = await render([
      '--project',
      project(),
      '--pipeline',
      'etl',
      '--pipeline-run-id',
      '7',
      '--set',
      'cpu=3',
    ]);
    expect(job.spec!.template.spec.containers[0]!.resources!.requests).toEqual({ cpu: '3' });
  });
});

describe('--namespace / -n (kubectl)', () => {
  it('sets the namespace as an override', async () => {
    expect((await render([...select(project()), '-n', 'etl'])).metadata.namespace).toBe('etl');
    expect((await render([...select(project()), '--namespace=etl2'])).metadata.namespace).toBe('etl2');
    // a later --set of the same key wins
    const both = await render([...select(project()), '-n', 'a', '--set', 'namespace=b']);
    expect(both.metadata.namespace).toBe('b');
  });

  it('stays below an enforced policy', async () => {
    const dir = project();
    const policy = join(dir, 'policy.yaml');
    writeFileSync(policy, 'enforce: true\nnamespace: locked\n');
    const job = await render([...select(dir), '-n', 'mine'], { K8S_DEFAULT_CONFIG_PATH: policy });
    expect(job.metadata.namespace).toBe('locked');
  });
});

describe('explain with overrides', () => {
  it('shows the override layer, with the flag as the source', async () => {
    const { code, stdout } = await cli(['explain', ...select(project()), '--set', 'cpu=1', '-n', 'etl']);
    expect(code).toBe(0);
    const row = (path: string) => stdout.split('\n').find((l) => l.startsWith(`${path} `));
    expect(row('container.resources.requests.cpu')).toMatch(
      /^container\.resources\.requests\.cpu\s+1\s+override\s+--set cpu=1$/,
    );
    expect(row('namespace')).toMatch(/^namespace\s+etl\s+override\s+--namespace etl$/);
    const json = JSON.parse(
      (await cli(['explain', ...select(project()), '--set', 'cpu=1', '-o', 'json'])).stdout,
    ) as { fields: { path: string; origin: unknown }[] };
    expect(json.fields.find((f) => f.path === 'container.resources.requests.cpu')?.origin).toEqual({
      layer: 'override',
      sourcePath: 'cpu',
      location: { file: '--set cpu=1' },
    });
  });

  it('shows the executor env as built-ins, and never an env value given on the command line', async () => {
    const { stdout } = await cli([
      'explain',
      ...select(project()),
      '--set',
      'container.env=[{name: TOKEN, value: s3cret}]',
    ]);
    expect(stdout).not.toContain('s3cret');
    expect(stdout).toMatch(
      /container\.env\[TOKEN\]\s+\{"name":"TOKEN","value":"\*\*\*"\}\s+override\s+--set container\.env=\*\*\*/,
    );
    expect(stdout).toMatch(/container\.env\[K8S_EXECUTOR_POD_NAME\]\s+.*metadata\.name.*\s+built-in/);
  });
});

describe('invalid overrides', () => {
  const fails = async (argv: string[], code = 2) => {
    const result = await cli(argv);
    expect(result.code).toBe(code);
    expect(result.stdout).toBe('');
    return result.stderr;
  };

  it('are ConfigErrors (exit 2) that name the flag', async () => {
    const stderr = await fails([
      'render',
      ...select(project()),
      '--set',
      'cpu=lots',
      '--set',
      'job.backoff_limit=x',
    ]);
    expect(stderr).toMatch(/^error \[CONFIG_INVALID\]/);
    expect(stderr).toContain('--set cpu=lots: cpu: "lots" is not a Kubernetes quantity');
    expect(stderr).toContain('--set job.backoff_limit=x: job.backoff_limit: expected a whole number');
    expect(await fails(['render', ...select(project()), '--set', 'backoff_limit=3'])).toContain(
      '--set backoff_limit=3: backoff_limit: unknown key "backoff_limit" at the top level of an override: it is a field of the job, so write its path, job.backoff_limit.',
    );
    expect(await fails(['render', ...select(project()), '--set', 'tolerations=[a'])).toMatch(
      /--set tolerations=\[a: tolerations: .*\[YAML_SYNTAX\]/,
    );
  });

  it('never print an env value given on the command line', async () => {
    const stderr = await fails([
      'render',
      ...select(project()),
      '--set',
      'env=[{name: "A=B", value: s3cret}]',
    ]);
    expect(stderr).toContain('--set env=***');
    expect(stderr).not.toContain('s3cret');
  });

  it('are usage errors when the flag itself is malformed', async () => {
    expect(await fails(['render', ...select(project()), '--set', 'cpu'])).toMatch(
      /--set expects KEY=VALUE, got "cpu"/,
    );
    expect(await fails(['render', ...select(project()), '--set', 'cpu='])).toMatch(
      /--set cpu=: no value .* --set 'cpu=!remove'/,
    );
    expect(await fails(['render', ...select(project()), '--set-block', 'nope.cpu=1'])).toMatch(
      /--set-block nope\.cpu=1: no block "nope" in the pipeline; the blocks are load, report/,
    );
    expect(await fails(['render', ...select(project()), '--set-block', 'load.cpu'])).toMatch(
      /--set-block expects BLOCK\.KEY=VALUE, got "load\.cpu"/,
    );
    expect(
      await fails([
        'render',
        '--project',
        project(),
        '--pipeline',
        'etl',
        '--pipeline-run-id',
        '1',
        '--set-block',
        'load.cpu=1',
      ]),
    ).toMatch(/--set-block is for a block's Job/);
  });
});

describe('run --set / --set-block (local backend, DAG)', () => {
  it('passes the overrides to every block, and each block its own', async () => {
    const dir = projectWithBlocks(
      `  - uuid: load
  - uuid: report
    upstream_blocks: [load]
`,
    );
    writeFileSync(
      join(dir, 'metadata.yaml'),
      `executor_type: k8s
k8s_executor_config:
  container:
    image: busybox:1.36
    command: ["sh", "-c", "echo greeting=$GREETING cpu=$CPU"]
    env: [{name: GREETING, value: hello}]
`,
    );
    const { code, stdout } = await cli([
      'run',
      '--local',
      '--project',
      dir,
      '--pipeline',
      'etl',
      '--set',
      'container.env=[{name: CPU, value: "4"}]',
      '--set-block',
      'report.container.env=[{name: GREETING, value: bye}]',
    ]);
    expect(code).toBe(0);
    expect(stdout).toContain('[load] greeting=hello cpu=4');
    expect(stdout).toContain('[report] greeting=bye cpu=4');
  });

  it('refuses --set-block for a single-job run, and an unknown block, before anything runs', async () => {
    const dir = projectWithBlocks('  - uuid: load\n');
    const single = await cli([
      'run',
      '--local',
      '--project',
      dir,
      '--pipeline',
      'etl',
      '--mode',
      'single-job',
      '--set-block',
      'load.cpu=1',
    ]);
    expect(single.code).toBe(2);
    expect(single.stderr).toMatch(/--set-block is for dag runs/);
    const unknown = await cli([
      'run',
      '--local',
      '--project',
      dir,
      '--pipeline',
      'etl',
      '--set-block',
      'lod.cpu=1',
    ]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/no block "lod" in the pipeline; the blocks are load/);
    expect(unknown.stdout).toBe('');
  });
});

describe('parse', () => {
  it('keeps every --set and --set-block, in order', () => {
    expect(
      parseCliArgs(['render', '--set', 'a=1', '--set=b=2', '--set-block', 'x.c=3', '-n', 'ns']),
    ).toMatchObject({ sets: ['a=1', 'b=2'], setBlocks: ['x.c=3'], namespace: 'ns' });
  });
});

describe('the library options the CLI passes (PipelineRun.overrides, blockOverrides)', () => {
  const files = {
    'metadata.yaml': 'k8s_executor_config:\n  image: img:1\n  container: {command: [run]}\n',
    'pipelines/etl/metadata.yaml':
      'blocks:\n  - {uuid: load, executor_type: k8s}\n  - {uuid: report, executor_type: k8s, upstream_blocks: [load]}\n',
  };

  it("give each block's Job the run's overrides and, as a layer above, its own", async () => {
    const jobClient = new InMemoryJobClient();
    const pipelines = new K8sPipelineExecutor({ configSource: new StaticConfigSource(files), jobClient });
    const result = await pipelines.run({
      pipelineUuid: 'etl',
      pipelineRunId: 1,
      overrides: { cpu: 1, labels: { team: 'data' } },
      blockOverrides: { report: { memory: 256, labels: { kind: 'report' } } },
    });
    pipelines.close();
    expect(result.status).toBe('succeeded');
    const jobOf = (block: string) =>
      jobClient.createdJobs.find((j) => j.metadata.labels?.['k8s-executor/block'] === block)!;
    expect(jobOf('load').spec!.template.spec.containers[0]!.resources).toEqual({ requests: { cpu: '1' } });
    expect(jobOf('report').spec!.template.spec.containers[0]!.resources).toEqual({
      requests: { cpu: '1', memory: '256M' },
    });
    expect(jobOf('report').metadata.labels).toMatchObject({ team: 'data', kind: 'report' });
    expect(jobOf('load').metadata.labels).not.toHaveProperty('kind');
  });

  it('refuse a block the pipeline does not have, before any Job is created', async () => {
    const jobClient = new InMemoryJobClient();
    const pipelines = new K8sPipelineExecutor({ configSource: new StaticConfigSource(files), jobClient });
    const error = await pipelines
      .run({ pipelineUuid: 'etl', pipelineRunId: 1, blockOverrides: { lod: { cpu: 1 } } })
      .catch((e: unknown) => e);
    pipelines.close();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues).toEqual([
      {
        code: 'UNKNOWN_BLOCK',
        path: 'blockOverrides',
        message:
          'blockOverrides names block "lod", which pipeline "etl" does not have: the blocks are "load", "report".',
      },
    ]);
    expect(jobClient.createdJobs).toEqual([]);
  });
});
