/**
 * Regressions (review, smaller findings): `--pipeline-run-id ""` was accepted (the Job name then lost the
 * run id); `--concurrency -1` said "needs a value"; a pipeline whose `uuid:` differs from its folder name
 * passed `validate` silently (Mage knows a pipeline by its folder).
 */
import { describe, expect, it } from 'vitest';
import { projectFiles, writeProject } from '../helpers/project.js';
import { cli } from './run-cli.js';

const dir = writeProject(projectFiles('  - uuid: a\n'));
const pipeline = ['--project', dir, '--pipeline', 'etl'];

describe('run ids', () => {
  it.each([
    ['run', ['--local', '--pipeline-run-id', ''], '--pipeline-run-id needs a run id, got ""'],
    ['run', ['--local', '--pipeline-run-id', '  '], '--pipeline-run-id needs a run id, got "  "'],
    ['render', ['--pipeline-run-id', ''], '--pipeline-run-id needs a run id, got ""'],
    ['render', ['--block', 'a', '--block-run-id', ''], '--block-run-id needs a run id, got ""'],
    ['explain', ['--block', 'a', '--block-run-id', ' '], '--block-run-id needs a run id, got " "'],
  ])('%s %j: an empty run id is a usage error', async (command, flags, message) => {
    const { code, stderr } = await cli([command, ...pipeline, ...flags]);
    expect(code).toBe(2);
    expect(stderr).toContain(`error [USAGE]: ${message}`);
  });
});

describe('--concurrency', () => {
  it.each(['-1', '0', '1.5', 'two'])('%s expects a positive integer', async (value) => {
    const { code, stderr } = await cli(['run', '--local', ...pipeline, '--concurrency', value]);
    expect(code).toBe(2);
    expect(stderr).toContain(`--concurrency expects a positive integer, got "${value}"`);
  });

  it('an option after a value-taking option still needs its value', async () => {
    const { stderr } = await cli(['run', '--project', '--local']);
    expect(stderr).toMatch(/--project needs a value/);
  });
});

describe('a pipeline uuid that is not its folder name', () => {
  it('is a warning at its line; the folder is the uuid, as in Mage', async () => {
    const files = projectFiles('  - uuid: a\n');
    const project = writeProject({
      ...files,
      'pipelines/etl/metadata.yaml': files['pipelines/etl/metadata.yaml']!.replace(
        'uuid: etl',
        'uuid: etl_v2',
      ),
    });
    const { code, stdout, stderr } = await cli(['validate', '--project', project]);
    expect(code).toBe(0);
    expect(stdout + stderr).toMatch(
      /pipelines\/etl\/metadata\.yaml:1: uuid: the pipeline's uuid "etl_v2" is not the name of its folder "etl": Mage knows a pipeline by its folder, and so does k8s-executor \(run it with --pipeline etl\)/,
    );
    expect(stdout + stderr).toContain('[PIPELINE_UUID_MISMATCH]');
  });
});
