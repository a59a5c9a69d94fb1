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
      uuid: 'etl',
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
