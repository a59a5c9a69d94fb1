/**
 * Regression (review finding `set-secret-in-output`). docs/cli.md and docs/configuration.md §15 promise that "the value of an override that goes
 * through env is never printed (`--set env=***`)". That holds for `--set env=...` and
 * `--set container.env=...`, but not for the other spellings that carry env: `--set container={env: [...]}`
 * and `--set container_config={env: [...]}`. `explain` prints the whole flag, secret included, in its SOURCE
 * column, and any config error in such a flag quotes it (`- --set container={env: [{name: P, value: ...}]...`).
 * Now any flag whose value holds an `env` key at any depth, in any spelling, is shown as `KEY=***`.
 */
import { describe, expect, it } from 'vitest';
import { cli } from '../cli/run-cli.js';
import { projectFiles, writeProject } from '../helpers/project.js';

const SECRET = 'hunter2-s3cret';
const dir = writeProject(projectFiles('  - uuid: a\n'));
const select = ['--project', dir, '--pipeline', 'etl', '--block', 'a', '--block-run-id', '1'];

describe('an env value given through --set is never printed', () => {
  it.each([
    ['container={env: [...]}', `container={env: [{name: PASSWORD, value: ${SECRET}}]}`],
    ['container_config={env: [...]}', `container_config={env: [{name: PASSWORD, value: ${SECRET}}]}`],
  ])('explain with --set %s', async (_what, flag) => {
    const result = await cli(['explain', ...select, '--set', flag]);
    expect(result.code).toBe(0);
    expect(result.stdout + result.stderr).not.toContain(SECRET);
  });

  it('a config error in a --set container={env: [...]} flag', async () => {
    const result = await cli([
      'render',
      ...select,
      '--set',
      `container={env: [{name: PASSWORD, value: ${SECRET}}], imagee: x}`,
    ]);
    expect(result.code).toBe(2);
    expect(result.stdout + result.stderr).not.toContain(SECRET);
  });
});

describe('every spelling that carries env is masked; the others are shown', () => {
  const env = `[{name: PASSWORD, value: ${SECRET}}]`;
  it.each([
    ['container.env', `container.env=${env}`, '--set container.env=***'],
    ['container_config.env', `container_config.env=${env}`, '--set container_config.env=***'],
    ['container', `container={env: ${env}}`, '--set container=***'],
    ['container_config', `container_config={env: ${env}}`, '--set container_config=***'],
    ['containerConfig (camelCase)', `containerConfig={env: ${env}}`, '--set containerConfig=***'],
    ['Env (another case)', `container={Env: ${env}}`, '--set container=***'],
    [
      'a flow map inside a YAML block',
      `container=\n  env:\n    - {name: PASSWORD, value: ${SECRET}}`,
      '--set container=***',
    ],
  ])('explain with --set %s', async (_what, flag, shown) => {
    const result = await cli(['explain', ...select, '--set', flag]);
    expect(result.code).toBe(0);
    expect(result.stdout + result.stderr).not.toContain(SECRET);
    expect(result.stdout).toContain(shown);
  });

  it('--set-block BLOCK.container={env: ...} too', async () => {
    const result = await cli([
      'run',
      '--local',
      '--project',
      dir,
      '--pipeline',
      'etl',
      '--set-block',
      `a.container={env: ${env}, imagee: x}`,
    ]);
    expect(result.code).toBe(2);
    expect(result.stdout + result.stderr).toContain('--set-block a.container=***');
    expect(result.stdout + result.stderr).not.toContain(SECRET);
  });

  it('a value that does not parse and may hold env is not quoted, not even by the YAML hint', async () => {
    const result = await cli(['render', ...select, '--set', `container={env: [{name: P, value: ${SECRET}}]`]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--set container=***');
    expect(result.stderr).toContain('[YAML_SYNTAX]');
    expect(result.stdout + result.stderr).not.toContain(SECRET);
  });

  it.each([
    ['envFrom (it names a Secret, holds no value)', 'container={env_from: [{secret_ref: {name: db}}]}'],
    ['a resource', 'cpu=2'],
  ])('%s is shown', async (_what, flag) => {
    const result = await cli(['explain', ...select, '--set', flag]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`--set ${flag}`);
  });
});
