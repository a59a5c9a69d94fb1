import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/index.js';
import { StaticConfigSource } from '../../src/testing/static-config-source.js';

async function resolveBlock(blockConfig: string) {
  const snapshot = await new StaticConfigSource({
    'metadata.yaml': 'k8s_executor_config:\n  image: img:1\n',
    'pipelines/p/metadata.yaml': `blocks:\n  - uuid: b\n    executor_config:\n${blockConfig}`,
  }).load('p');
  return resolveConfig({
    snapshot,
    mode: 'block',
    identity: { pipelineUuid: 'p', pipelineRunId: '1', blockUuid: 'b', blockRunId: '1' },
  }).config;
}

describe('shorthand keys in any accepted spelling', () => {
  it.each(['gpu_vendor', 'gpuVendor', 'GPU_VENDOR'])('%s picks the GPU resource', async (key) => {
    const config = await resolveBlock(`      gpu: 1\n      ${key}: amd\n`);
    expect(config.container.resources).toMatchObject({ limits: { 'amd.com/gpu': '1' } });
  });

  it.each(['use_tmpfs', 'useTmpfs', 'USE_TMPFS'])('%s mounts a tmpfs', async (key) => {
    const config = await resolveBlock(`      memory: 2048\n      ${key}: true\n`);
    expect(config.pod?.volumes).toEqual([
      { name: 'tmpfs', emptyDir: { medium: 'Memory', sizeLimit: '1024M' } },
    ]);
  });
});

describe('explain never shows env values', () => {
  it('masks them in the container and inside whole-list rows such as init containers', async () => {
    const { explainConfig } = await import('../../src/config/index.js');
    const snapshot = await new StaticConfigSource({
      'metadata.yaml': `k8s_executor_config:
  image: img:1
  container:
    env: [{name: TOKEN, value: s3cr3t-main}]
  pod:
    init_containers:
      - name: init
        image: img:1
        env: [{name: TOKEN, value: s3cr3t-init}]
`,
      'pipelines/p/metadata.yaml': 'blocks:\n  - uuid: b\n',
    }).load('p');
    const resolved = resolveConfig({
      snapshot,
      mode: 'block',
      identity: { pipelineUuid: 'p', pipelineRunId: '1', blockUuid: 'b', blockRunId: '1' },
    });
    const text = JSON.stringify(explainConfig(resolved));
    expect(text).not.toMatch(/s3cr3t/);
    expect(text).toContain('***');
  });
});
