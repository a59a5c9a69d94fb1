import { describe, expect, it } from 'vitest';
import { mageCommand, resolveConfig } from '../../src/config/index.js';
import type { ConfigError } from '../../src/errors/config-error.js';
import {
  BLOCK_RUN,
  pipelineWithBlock,
  projectWith,
  type SnapshotFiles,
  snapshotOf,
} from './snapshot-helper.js';

const resolve = (
  files: SnapshotFiles,
  mode: 'block' | 'pipeline' = 'block',
  variables?: Record<string, unknown>,
) =>
  resolveConfig({
    snapshot: snapshotOf({ pipeline: pipelineWithBlock(''), ...files }),
    mode,
    identity: mode === 'block' ? BLOCK_RUN : { pipelineUuid: 'p', pipelineRunId: '7' },
    ...(variables ? { variables } : {}),
  });

/** The container's command of a resolved config. */
const commandOf = (resolved: { config: { container: Record<string, unknown> } }) =>
  resolved.config.container.command as string[] | undefined;

describe('mageCommand: the argv of Mage _run_commands', () => {
  it('block run, as BlockExecutor._run_commands builds it', () => {
    expect(
      mageCommand({
        kind: 'block',
        repoPath: '/home/src/proj',
        pipelineUuid: 'etl',
        blockUuid: 'load',
        blockRunId: '42',
        pipelineRunId: '7',
      }),
    ).toEqual([
      '/app/run_app.sh',
      'mage',
      'run',
      '/home/src/proj',
      'etl',
      '--block-uuid',
      'load',
      '--executor-type',
      'local_python',
      '--block-run-id',
      '42',
      '--pipeline-run-id',
      '7',
    ]);
  });

  it('leaves out a pipeline run id of 0 (falsy in Mage) and adds --runtime-vars for caller variables', () => {
    expect(
      mageCommand({
        kind: 'block',
        repoPath: '/r',
        pipelineUuid: 'p',
        blockUuid: 'b',
        blockRunId: '1',
        pipelineRunId: '0',
        variables: { day: '2026-01-01' },
      }),
    ).toEqual([
      '/app/run_app.sh',
      'mage',
      'run',
      '/r',
      'p',
      '--block-uuid',
      'b',
      '--executor-type',
      'local_python',
      '--block-run-id',
      '1',
      '--runtime-vars',
      '{"day":"2026-01-01"}',
    ]);
  });

  it('whole-pipeline run, as PipelineExecutor._run_commands builds it', () => {
    expect(mageCommand({ kind: 'pipeline', repoPath: '/r', pipelineUuid: 'p', pipelineRunId: '7' })).toEqual([
      '/app/run_app.sh',
      'mage',
      'run',
      '/r',
      'p',
      '--executor-type',
      'local_python',
      '--pipeline-run-id',
      '7',
    ]);
  });
});

describe('command: mage in a config layer', () => {
  it('renders the command from the run, with the repo path of the preset, MAGE_REPO_PATH or /home/src/<folder>', () => {
    const atDefault = resolve({ project: projectWith('image: x\ncommand: mage') });
    expect(commandOf(atDefault)?.slice(0, 5)).toEqual([
      '/app/run_app.sh',
      'mage',
      'run',
      '/home/src/proj',
      'p',
    ]);
    expect(atDefault.provenance['container.command']).toMatchObject({
      layer: 'project',
      sourcePath: 'k8s_executor_config.command',
    });
    expect(atDefault.config).not.toHaveProperty('commandPreset');
    const fromEnv = resolveConfig({
      snapshot: snapshotOf({
        project: projectWith('image: x\ncommand: mage'),
        pipeline: pipelineWithBlock(''),
        env: { MAGE_REPO_PATH: '/srv/proj' },
      }),
      mode: 'block',
      identity: BLOCK_RUN,
    });
    expect(commandOf(fromEnv)?.[3]).toBe('/srv/proj');
    const own = resolve({ project: projectWith('image: x\ncommand: {preset: mage, repo_path: /code/p}') });
    expect(commandOf(own)?.[3]).toBe('/code/p');
  });

  it('the whole-pipeline Job gets the pipeline form', () => {
    const { config } = resolve({ project: projectWith('image: x\ncommand: mage') }, 'pipeline', { a: 1 });
    expect(config.container.command).toEqual([
      '/app/run_app.sh',
      'mage',
      'run',
      '/home/src/proj',
      'p',
      '--executor-type',
      'local_python',
      '--pipeline-run-id',
      '7',
      '--runtime-vars',
      '{"a":1}',
    ]);
  });

  it('replaces the command and args of its own layer and below; a higher layer with its own command wins', () => {
    const over = resolve({
      project: projectWith('image: x\ncontainer: {command: [node], args: [a.js]}'),
      pipeline: pipelineWithBlock('command: mage'),
    });
    expect(commandOf(over)?.[1]).toBe('mage');
    expect(over.config.container.args).toBeUndefined();
    const under = resolve({
      project: projectWith('image: x\ncommand: mage'),
      pipeline: pipelineWithBlock('container: {command: [python, b.py]}'),
    });
    expect(under.config.container.command).toEqual(['python', 'b.py']);
  });

  it('with container.command in the same layer is a conflict; an unknown preset has a did-you-mean', () => {
    const issues = (files: SnapshotFiles) => {
      try {
        resolve(files);
      } catch (error) {
        return (error as ConfigError).issues.map((i) => [i.code, i.path, i.message]);
      }
      return [];
    };
    expect(issues({ project: projectWith('image: x\ncommand: mage\ncontainer: {command: [a]}') })).toEqual([
      ['CONFLICTING_KEYS', 'k8s_executor_config.command', expect.stringContaining('keep one of the two')],
    ]);
    expect(issues({ project: projectWith('image: x\ncommand: mgae') })).toEqual([
      ['INVALID_VALUE', 'k8s_executor_config.command', expect.stringContaining('did you mean "mage"?')],
    ]);
    expect(issues({ project: projectWith('image: x\ncommand: [a, b]') })).toEqual([
      ['INVALID_TYPE', 'k8s_executor_config.command', expect.stringContaining('container.command')],
    ]);
  });
});
