import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/cli.js';
import { writeProject } from '../helpers/project.js';

async function validate(argv: string[], env: Record<string, string | undefined> = {}) {
  let stdout = '';
  let stderr = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    stdout += String(chunk);
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    stderr += String(chunk);
    return true;
  });
  const code = await main(['validate', ...argv], env);
  vi.restoreAllMocks();
  return { code, stdout, stderr, lines: (code === 0 ? stdout : stderr).split('\n').filter((l) => l !== '') };
}

afterEach(() => vi.restoreAllMocks());

const PROJECT = 'executor_type: k8s\nk8s_executor_config:\n  image: x/y:1\n  command: mage\n';
const project = (files: Record<string, string>) =>
  writeProject({ 'metadata.yaml': PROJECT, 'pipelines/etl/metadata.yaml': 'blocks:\n- uuid: a\n', ...files });

describe('k8s-executor validate checks what run does', () => {
  it('every example project validates clean (the demo included)', async () => {
    const examples = readdirSync('examples').filter((name) => statSync(join('examples', name)).isDirectory());
    expect(examples).toContain('demo-project');
    for (const name of examples) {
      const result = await validate(['--project', join('examples', name)]);
      expect(result, name).toMatchObject({ code: 0, stderr: '' });
      expect(result.stdout).toMatch(/no problems found\.\n$/);
    }
  });

  it('checks the whole-pipeline Job only with --mode single-job, and labels its problems', async () => {
    const result = await validate(['--project', 'examples/demo-project', '--mode', 'single-job']);
    expect(result.code).toBe(1);
    expect(result.lines[0]).toMatch(/variable "block_uuid" is not defined.*\(single-job run\)$/);
  });

  it('checks the whole-pipeline Job when the pipeline says run_pipeline_in_one_process', async () => {
    const dir = project({
      'metadata.yaml':
        'executor_type: k8s\nk8s_executor_config:\n  image: x/y:1\n  container: {command: [run, "{{ block_uuid }}"]}\n',
      'pipelines/etl/metadata.yaml': 'run_pipeline_in_one_process: true\nblocks:\n- uuid: a\n',
    });
    expect((await validate(['--project', dir])).lines[0]).toMatch(/block_uuid.*\(single-job run\)$/);
    expect((await validate(['--project', dir, '--mode', 'dag'])).code).toBe(0);
  });

  it('labels a problem of some blocks only with those blocks', async () => {
    const dir = project({
      'pipelines/etl/metadata.yaml': 'blocks:\n- uuid: a\n  executor_config: {cpu: lots}\n- uuid: b\n',
    });
    const { lines } = await validate(['--project', dir]);
    expect(lines[0]).toMatch(
      /metadata\.yaml:3: blocks\[0\]\.executor_config\.cpu: .*\[INVALID_QUANTITY\] \(dag run: block a\)$/,
    );
  });

  it('notes a Kubernetes block whose Job has no command (exit 0)', async () => {
    const dir = project({ 'metadata.yaml': 'executor_type: k8s\nk8s_executor_config:\n  image: x/y:1\n' });
    const { code, stdout } = await validate(['--project', dir]);
    expect(code).toBe(0);
    expect(stdout).toMatch(
      /warning: .*pipelines\/etl\/metadata\.yaml:2: blocks: block "a" runs as a Kubernetes Job with no command.*command: mage.*\[NO_COMMAND\] \(dag run\)/,
    );
    expect(stdout).toMatch(/no problems found \(1 warning\)\.$/m);
  });
});

describe('k8s-executor validate: every key of a Mage project', () => {
  it('reports typos of block, pipeline and project keys with did-you-mean, and wrong types', async () => {
    const dir = project({
      'metadata.yaml': 'executor_type: k8s\nk8s_executor_conifg:\n  image: x/y:1\n',
      'pipelines/etl/metadata.yaml': `executer_config: {}
retry_config: {retrys: 2}
blocks:
- uuid: a
  executor_confg: {cpu: 1}
- uuid: b
  upstream_block: [a]
  executor_type: k8
  retry_config: {retries: "two", exponential_backoff: yes}
`,
    });
    const { code, lines } = await validate(['--project', dir]);
    expect(code).toBe(1);
    expect(lines.slice(0, -1).map((l) => l.replace(`${dir}/`, ''))).toEqual([
      expect.stringMatching(
        /^metadata\.yaml:2: k8s_executor_conifg: .*did you mean "k8s_executor_config"\? \[UNKNOWN_KEY\]$/,
      ),
      expect.stringMatching(/^pipelines\/etl\/metadata\.yaml:1: executer_config: .*"executor_config"/),
      expect.stringMatching(/^pipelines\/etl\/metadata\.yaml:2: retry_config\.retrys: .*"retries"/),
      expect.stringMatching(
        /^pipelines\/etl\/metadata\.yaml:5: blocks\[0\]\.executor_confg: .*"executor_config"/,
      ),
      expect.stringMatching(
        /^pipelines\/etl\/metadata\.yaml:7: blocks\[1\]\.upstream_block: .*"upstream_blocks"/,
      ),
      expect.stringMatching(
        /^pipelines\/etl\/metadata\.yaml:8: blocks\[1\]\.executor_type: .*did you mean "k8s"\?/,
      ),
      expect.stringMatching(
        /^pipelines\/etl\/metadata\.yaml:9: blocks\[1\]\.retry_config\.retries: expected a whole number, got "two"\. \[INVALID_TYPE\]$/,
      ),
    ]);
    // The misspelled k8s_executor_config is the one problem: no echo of it as a missing image.
    expect(lines.join('\n')).not.toMatch(/MISSING_IMAGE/);
  });

  it('names a missing project directory; a project without pipelines, an empty or list pipeline file are errors', async () => {
    // The CLI names the missing directory before anything reads inside it (the library's own message is
    // tested with FsConfigSource).
    const missing = await validate(['--project', '/does/not/exist']);
    expect(missing.code).toBe(2);
    expect(missing.lines[0]).toBe(
      'error [USAGE]: --project: the directory "/does/not/exist" does not exist; see k8s-executor validate --help',
    );
    const none = writeProject({ 'metadata.yaml': PROJECT });
    expect((await validate(['--project', none])).lines[0]).toMatch(
      /pipelines holds no pipeline.*\[UNKNOWN_PIPELINE\]$/,
    );
    const empty = project({ 'pipelines/etl/metadata.yaml': '' });
    expect((await validate(['--project', empty])).lines[0]).toMatch(
      /the pipeline file is empty.*\[INVALID_VALUE\]$/,
    );
    const list = project({ 'pipelines/etl/metadata.yaml': '- uuid: a\n' });
    expect((await validate(['--project', list])).lines[0]).toMatch(
      /metadata\.yaml:1: expected a map.*got a list\. \[INVALID_TYPE\]$/,
    );
  });
});

describe('k8s-executor validate: one problem per real problem', () => {
  const firstLines = async (metadata: string) => {
    const { code, lines } = await validate(['--project', project({ 'metadata.yaml': metadata })]);
    expect(code).toBe(1);
    return lines.slice(0, -1).map((l) => l.replace(/^.*?metadata\.yaml/, 'metadata.yaml'));
  };

  it('`!replace` on a whole executor_config: one problem that says where it goes instead', async () => {
    const dir = project({
      'pipelines/etl/metadata.yaml':
        'blocks:\n- uuid: a\n  executor_config: !replace\n    resource_limits: {cpu: 1}\n',
    });
    const { code, lines } = await validate(['--project', dir]);
    expect(code).toBe(1);
    expect(lines.slice(0, -1).map((l) => l.replace(/^.*?metadata\.yaml/, 'metadata.yaml'))).toEqual([
      'metadata.yaml:3: blocks[0].executor_config: `!replace` goes on a key inside the executor settings, not on all of them: put it on the key whose lower value it replaces (e.g. `pod: !replace {...}`). [INVALID_TYPE]',
    ]);
  });

  it('a tab: its parse error only (no false MISSING_IMAGE)', async () => {
    expect(
      await firstLines('executor_type: k8s\nk8s_executor_config:\n  image: x/y:1\n\tnamespace: x\n'),
    ).toEqual([
      'metadata.yaml:4: Tabs are not allowed as indentation (TAB_AS_INDENT); indent with spaces: fix the YAML syntax. [YAML_SYNTAX]',
    ]);
  });

  it('a missing colon: one parse error that says so (no bogus UNKNOWN_KEY)', async () => {
    expect(
      await firstLines(
        'executor_type: k8s\nk8s_executor_config:\n  image: x/y:1\n  namespace default\n  resource_limits:\n    cpu: 1\n',
      ),
    ).toEqual([
      expect.stringMatching(
        /^metadata\.yaml:4: .*"namespace default" has no ":" — a setting is written `key: value`.*\[YAML_SYNTAX\]$/,
      ),
    ]);
  });

  it('a duplicate key names the key and both lines', async () => {
    expect(
      await firstLines(
        'executor_type: k8s\nk8s_executor_config:\n  image: x/y:1\n  namespace: a\n  namespace: b\n',
      ),
    ).toEqual([
      'metadata.yaml:5: duplicate key "namespace": it is already set on line 4; keep one of the two (DUPLICATE_KEY) [YAML_SYNTAX]',
    ]);
  });

  it('a request above its limit names both values and the layer and file:line of each', async () => {
    const dir = project({
      'metadata.yaml': `${PROJECT}  resource_limits: {cpu: 500m}\n`,
      'pipelines/etl/metadata.yaml': 'blocks:\n- uuid: a\n  executor_config:\n    cpu: 2\n',
    });
    const { lines } = await validate(['--project', dir], {
      K8S_EXECUTOR_DEFAULT_RESOURCE_LIMITS_MEMORY: '1Gi',
    });
    expect(lines[0]).toBe(
      `${dir}/pipelines/etl/metadata.yaml:4: blocks[0].executor_config.cpu: the cpu request 2 (block, ${dir}/pipelines/etl/metadata.yaml:4) is above its limit 500m (project, ${dir}/metadata.yaml:5): lower the request or raise the limit. [INVALID_VALUE] (dag run)`,
    );
  });
});
