import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { writeProject } from '../helpers/project.js';
import { cli } from './run-cli.js';

afterEach(() => vi.restoreAllMocks());

/** A project whose pipeline `etl` has one block `load` running `command` (with `env` YAML under the container). */
function project(command: string, env = '') {
  return writeProject({
    'metadata.yaml': `executor_type: k8s
k8s_executor_config:
  container:
    image: busybox:1.36
    command: ["sh", "-c", ${JSON.stringify(command)}]
${env}`,
    'pipelines/etl/metadata.yaml':
      'uuid: etl\nblocks:\n  - uuid: load\n  - uuid: report\n    upstream_blocks: [load]\n',
  });
}

const run = (dir: string, ...more: string[]) => [
  'run',
  '--local',
  '--project',
  dir,
  '--pipeline',
  'etl',
  ...more,
];

describe('k8s-executor run', () => {
  it('runs on the local backend, says so in the singular or plural, and writes a timeline', async () => {
    const dir = project('echo hello from $HOSTNAME');
    const timeline = join(dir, 'timeline.html');
    const { code, stdout } = await cli(run(dir, '--timeline', timeline, '--pipeline-run-id', '7'));
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Running pipeline etl \(run 7\) on the local backend, 2 blocks\n/);
    expect(stdout).toContain('Pipeline etl SUCCEEDED');
    expect(stdout).toContain(`Timeline written to ${timeline}`);
    const html = readFileSync(timeline, 'utf8');
    expect(html).toContain('load → report'); // the critical path, from the pipeline's DAG
  });

  it('checks the timeline path before the run: nothing runs when it cannot be written', async () => {
    const dir = project('echo ran > ran.txt');
    const { code, stdout, stderr } = await cli(run(dir, '--timeline', '/nonexistent/dir/x.html'));
    expect(code).toBe(2);
    expect(stderr).toMatch(/--timeline: the directory "\/nonexistent\/dir" does not exist/);
    expect(stdout).toBe('');
    expect(() => readFileSync(join(dir, 'ran.txt'))).toThrow();
    expect((await cli(run(dir, '--timeline', dir))).stderr).toMatch(/is a directory, not a file/);
  });

  it('prints what the local backend will ignore before the run starts', async () => {
    const dir = project(
      'echo ok',
      `    env:
      - name: PLAIN
        value: x
      - name: PASSWORD
        valueFrom: {secretKeyRef: {name: db, key: password}}
    env_from:
      - secret_ref: {name: db-env}
`,
    );
    const { code, stdout } = await cli(run(dir));
    expect(code).toBe(0);
    const lines = stdout.split('\n');
    const header = lines.findIndex((l) => l.startsWith('Running pipeline'));
    expect(lines.slice(0, header)).toEqual([
      'warning: env PASSWORD uses valueFrom, which the local backend cannot resolve: it is not set (load, report).',
      'warning: envFrom db-env is ignored by the local backend: its variables are not set (load, report).',
    ]);
  });

  it('exits 130 on Ctrl-C, after deleting what the run created', async () => {
    const dir = project('echo started; sleep 30');
    let sent = false;
    const { code, stdout, stderr } = await cli(run(dir), {}, (text) => {
      if (!sent && text.includes('[load] started')) {
        sent = true;
        setImmediate(() => process.emit('SIGINT', 'SIGINT'));
      }
    });
    expect(sent).toBe(true);
    expect(code).toBe(130);
    expect(stderr).toMatch(/SIGINT: cancelling, deleting the Jobs this run created/);
    expect(stdout).toMatch(/Pipeline etl CANCELLED/);
  }, 30_000);

  it('passes --kubeconfig to the cluster backend, and says nothing about running before the cluster answers', async () => {
    const dir = project('echo ok');
    const { code, stdout, stderr } = await cli([
      'run',
      '--project',
      dir,
      '--pipeline',
      'etl',
      '--kubeconfig',
      '/nonexistent/kubeconfig',
      '--context',
      'staging',
    ]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/NO_CLUSTER.*"\/nonexistent\/kubeconfig" does not exist/);
    expect(stderr).toContain('On the command line: --kubeconfig FILE and --context NAME choose the cluster');
    expect(stdout).not.toContain('Running pipeline');
  });

  it('passes --context to the cluster backend', async () => {
    const dir = writeProject({
      'metadata.yaml': 'k8s_executor_config:\n  container: {image: busybox, command: [echo]}\n',
      'pipelines/etl/metadata.yaml': 'blocks:\n  - uuid: load\n    executor_type: k8s\n',
      kubeconfig: `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: dev, context: {cluster: c, user: u}}]
current-context: dev
`,
    });
    const { code, stderr } = await cli([
      'run',
      '--project',
      dir,
      '--pipeline',
      'etl',
      '--kubeconfig',
      join(dir, 'kubeconfig'),
      '--context',
      'staging',
    ]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/context "staging" does not exist.*Known contexts: dev/);
  });
});
