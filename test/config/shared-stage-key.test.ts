// The shared merge of the blocks without a layer of their own (src/config/resolve.ts): its stage key is
// one no block's key can equal, whatever the block uuid.
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/resolve.js';
import { projectWith, snapshotOf } from '../config/snapshot-helper.js';

const identity = (blockUuid: string) => ({
  pipelineUuid: 'p',
  pipelineRunId: '7',
  blockUuid,
  blockRunId: '1',
  attempt: 1,
});

// A block uuid is any string the pipeline file holds: YAML's "\0" escape gives a NUL.
const files = () =>
  snapshotOf({
    project: projectWith('container:\n  image: busybox\n  command: ["true"]\ncpu: 250m'),
    pipeline: `uuid: p
blocks:
- uuid: plain
  executor_type: k8s
- uuid: "\\0no-block-layer"
  executor_type: k8s
  executor_config:
    cpu: "3"
`,
  });

const cpuOf = (snapshot: ReturnType<typeof files>, block: string) =>
  JSON.stringify(
    resolveConfig({ snapshot, mode: 'block', identity: identity(block) }).config.container,
  ).match(/"cpu":"([^"]+)"/)?.[1];

describe('the stage key of a block without a layer', () => {
  it('is not the key of a real block (a block named like a marker keeps its own config)', () => {
    const snapshot = files();
    expect(cpuOf(snapshot, 'plain')).toBe('250m');
    // Resolved after "plain", it must not get the shared stage of the blocks without a layer.
    expect(cpuOf(snapshot, '\u0000no-block-layer')).toBe('3');
  });

  it('nor does that block lend its own layer to the blocks without one', () => {
    const snapshot = files();
    expect(cpuOf(snapshot, '\u0000no-block-layer')).toBe('3');
    expect(cpuOf(snapshot, 'plain')).toBe('250m');
  });
});
