import { describe, expect, it } from 'vitest';
import { readPipeline } from '../../src/config/index.js';
import { ConfigError } from '../../src/errors/config-error.js';
import { snapshotOf } from './snapshot-helper.js';

describe('readPipeline', () => {
  const pipeline = `uuid: etl
executor_type: k8s
retry_config: {retries: 2}
blocks:
- uuid: load
  type: data_loader
  upstream_blocks: []
  executor_type: local_python
- uuid: clean
  type: transformer
  upstream_blocks: [load]
  executor_type: ""
  retry_config: {retries: 3, exponential_backoff: true}
- uuid: export
  upstream_blocks: [clean, load]
  executor_type: pyspark
`;

  it('returns blocks in file order with upstreams, executor types and retries', () => {
    const definition = readPipeline(
      snapshotOf({ project: 'executor_type: ecs\nretry_config: {delay: 10}', pipeline }),
    );
    expect(definition).toEqual({
      // The folder's name (the snapshot's file is pipelines/p/metadata.yaml), not `uuid: etl`: as in Mage.
      uuid: 'p',
      executorType: 'k8s',
      retry: { retries: 2, delaySeconds: 5, maxDelaySeconds: 60, exponentialBackoff: true },
      runPipelineInOneProcess: false,
      blocks: [
        {
          uuid: 'load',
          type: 'data_loader',
          upstream: [],
          executorType: 'k8s',
          retry: { retries: 0, delaySeconds: 10, maxDelaySeconds: 60, exponentialBackoff: true },
          location: { file: 'proj/pipelines/p/metadata.yaml', line: 5, column: 3 },
        },
        {
          uuid: 'clean',
          type: 'transformer',
          upstream: ['load'],
          executorType: 'k8s',
          retry: { retries: 3, delaySeconds: 10, maxDelaySeconds: 60, exponentialBackoff: true },
          location: { file: 'proj/pipelines/p/metadata.yaml', line: 9, column: 3 },
        },
        {
          uuid: 'export',
          upstream: ['clean', 'load'],
          executorType: 'pyspark',
          retry: { retries: 0, delaySeconds: 10, maxDelaySeconds: 60, exponentialBackoff: true },
          location: { file: 'proj/pipelines/p/metadata.yaml', line: 14, column: 3 },
        },
      ],
    });
  });

  it("falls back to the project's executor type, then local_python; no retry without retry_config", () => {
    const blocks = 'blocks:\n- uuid: a\n  upstream_blocks: []\n';
    expect(
      readPipeline(snapshotOf({ project: 'executor_type: k8s', pipeline: blocks })).blocks[0],
    ).toMatchObject({ executorType: 'k8s' });
    const plain = readPipeline(snapshotOf({ pipeline: blocks }));
    expect(plain.executorType).toBe('local_python');
    expect(plain.blocks[0]).not.toHaveProperty('retry');
    expect(plain.uuid).toBe('p');
  });

  it('rejects duplicate and missing uuids and bad retry values', () => {
    const snapshot = snapshotOf({
      pipeline: 'blocks:\n- uuid: a\n- uuid: a\n- type: x\n- uuid: b\n  retry_config: {retries: -1}\n',
    });
    expect(() => readPipeline(snapshot)).toThrow(ConfigError);
    try {
      readPipeline(snapshot);
    } catch (error) {
      expect((error as ConfigError).issues.map((i) => [i.code, i.path])).toEqual([
        ['INVALID_VALUE', 'blocks[1].uuid'],
        ['INVALID_VALUE', 'blocks[2]'],
        ['INVALID_VALUE', 'blocks[3].retry_config.retries'],
      ]);
    }
  });

  it('without a pipeline, throws the snapshot issue that says why', () => {
    const snapshot = snapshotOf({});
    snapshot.issues.push({ code: 'UNKNOWN_PIPELINE', path: '', message: 'no pipeline "x"' });
    expect(() => readPipeline(snapshot)).toThrow(/no pipeline "x" \[UNKNOWN_PIPELINE\]/);
    expect(() => readPipeline(snapshotOf({}))).toThrow(/UNKNOWN_PIPELINE/);
  });
});

describe('readPipeline checks every key of a Mage pipeline', () => {
  const issuesOf = (files: Parameters<typeof snapshotOf>[0]) => {
    try {
      readPipeline(snapshotOf(files));
    } catch (error) {
      return (error as ConfigError).issues.map((i) => [i.code, i.path, i.location?.line, i.message]);
    }
    return [];
  };

  it('unknown keys with did-you-mean, executor types with did-you-mean, wrong types', () => {
    expect(
      issuesOf({
        pipeline: `uuid: etl
executer_config: {}
run_pipeline_in_one_process: "sure"
retry_config: {retrys: 2}
blocks:
- uuid: a
  executor_confg: {cpu: 1}
- uuid: b
  upstream_block: [a]
  executor_type: k8
- uuid: c
  upstream_blocks: a
  retry_config: {retries: "two", exponential_backoff: maybe}
`,
      }),
    ).toEqual([
      ['UNKNOWN_KEY', 'executer_config', 2, expect.stringContaining('did you mean "executor_config"?')],
      ['INVALID_TYPE', 'run_pipeline_in_one_process', 3, 'expected true or false, got "sure".'],
      ['UNKNOWN_KEY', 'retry_config.retrys', 4, expect.stringContaining('did you mean "retries"?')],
      [
        'UNKNOWN_KEY',
        'blocks[0].executor_confg',
        7,
        expect.stringContaining('did you mean "executor_config"?'),
      ],
      [
        'UNKNOWN_KEY',
        'blocks[1].upstream_block',
        9,
        expect.stringContaining('did you mean "upstream_blocks"?'),
      ],
      ['INVALID_VALUE', 'blocks[1].executor_type', 10, expect.stringContaining('did you mean "k8s"?')],
      [
        'INVALID_TYPE',
        'blocks[2].upstream_blocks',
        12,
        expect.stringContaining('expected a list of block uuids'),
      ],
      ['INVALID_TYPE', 'blocks[2].retry_config.retries', 13, 'expected a whole number, got "two".'],
      [
        'INVALID_TYPE',
        'blocks[2].retry_config.exponential_backoff',
        13,
        'expected true or false, got "maybe".',
      ],
    ]);
  });

  it("accepts the keys Mage writes that are ignored here, and checks the project's top level too", () => {
    const pipeline = `uuid: etl
name: ETL
type: python
created_at: '2026-01-01 00:00:00'
cache_block_output_in_memory: false
concurrency_config: {}
tags: []
widgets: []
callbacks: []
conditionals: []
variables_dir: /home/src/mage_data
blocks:
- {uuid: a, name: a, type: data_loader, language: python, color: null, configuration: {}, downstream_blocks: [], status: executed, has_callback: false, timeout: null, all_upstream_blocks_executed: true, retry_config: null, executor_config: null, executor_type: local_python, upstream_blocks: []}
`;
    expect(issuesOf({ pipeline })).toEqual([]);
    expect(
      issuesOf({ project: 'k8s_executor_conifg: {image: x}\nretry_config: {retries: two}', pipeline }),
    ).toEqual([
      [
        'UNKNOWN_KEY',
        'k8s_executor_conifg',
        1,
        expect.stringContaining('did you mean "k8s_executor_config"?'),
      ],
      ['INVALID_TYPE', 'retry_config.retries', 2, 'expected a whole number, got "two".'],
    ]);
  });

  it('reads executor types as Mage does: block, else pipeline, else DEFAULT_EXECUTOR_TYPE; templates rendered', () => {
    const pipeline = `executor_type: "{{ env_var('EXECUTOR') }}"
blocks:
- {uuid: a}
- {uuid: b, executor_type: local_python}
- {uuid: c, executor_type: local_python_force}
`;
    const read = (env: Record<string, string>, text = pipeline) =>
      readPipeline(snapshotOf({ pipeline: text, env })).blocks.map((b) => b.executorType);
    expect(read({ EXECUTOR: 'k8s' })).toEqual(['k8s', 'k8s', 'local_python_force']);
    expect(read({ EXECUTOR: '', DEFAULT_EXECUTOR_TYPE: 'k8s' })).toEqual([
      'k8s',
      'k8s',
      'local_python_force',
    ]);
    expect(read({ EXECUTOR: 'local_python', DEFAULT_EXECUTOR_TYPE: 'nonsense' })).toEqual([
      'local_python',
      'local_python',
      'local_python_force',
    ]);
    expect(issuesOf({ pipeline })).toEqual([
      ['TEMPLATE_UNDEFINED', 'executor_type', 1, expect.stringContaining('"EXECUTOR" is not set')],
    ]);
    expect(issuesOf({ pipeline: 'executor_type: K8S\nblocks: []' })).toEqual([
      ['INVALID_VALUE', 'executor_type', 1, expect.stringContaining('did you mean "k8s"?')],
    ]);
  });

  it('exposes run_pipeline_in_one_process (yes/no too), with RUN_PIPELINE_IN_ONE_PROCESS as the default', () => {
    const read = (text: string, env: Record<string, string> = {}) =>
      readPipeline(snapshotOf({ pipeline: `${text}blocks: [{uuid: a}]\n`, env })).runPipelineInOneProcess;
    expect(read('run_pipeline_in_one_process: true\n')).toBe(true);
    expect(read('run_pipeline_in_one_process: yes\n')).toBe(true);
    expect(read('')).toBe(false);
    expect(read('', { RUN_PIPELINE_IN_ONE_PROCESS: 'True' })).toBe(true);
    expect(read('run_pipeline_in_one_process: false\n', { RUN_PIPELINE_IN_ONE_PROCESS: '1' })).toBe(false);
  });

  it('an empty pipeline file, a file that is a list, a file that fails to parse', () => {
    expect(issuesOf({ pipeline: '' })).toEqual([
      ['INVALID_VALUE', '', undefined, expect.stringContaining('is empty')],
    ]);
    expect(issuesOf({ pipeline: '- a\n' })).toEqual([
      ['INVALID_TYPE', '', 1, expect.stringContaining('got a list')],
    ]);
    expect(issuesOf({ pipeline: 'blocks:\n- uuid: a\n  upstream_blocks [x]\n' })).toEqual([
      ['YAML_SYNTAX', '', 3, expect.stringContaining('"upstream_blocks [x]" has no ":"')],
    ]);
  });
});
