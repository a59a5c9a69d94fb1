import { describe, expect, it } from 'vitest';
import {
  type ConfigOverrides,
  explainConfig,
  REMOVE,
  type ResolveInput,
  resolveConfig,
} from '../../src/config/index.js';
import { parseOverrideKey } from '../../src/config/overrides.js';
import { ConfigError, type ConfigIssue, formatConfigIssue } from '../../src/errors/config-error.js';
import {
  BLOCK_RUN,
  pipelineWithBlock,
  projectWith,
  type SnapshotFiles,
  snapshotOf,
} from './snapshot-helper.js';

const IMAGE = 'image: img:1';

function resolve(overrides: ConfigOverrides, files: SnapshotFiles = {}, extra: Partial<ResolveInput> = {}) {
  return resolveConfig({
    snapshot: snapshotOf({ project: projectWith(IMAGE), pipeline: pipelineWithBlock(''), ...files }),
    mode: 'block',
    identity: BLOCK_RUN,
    overrides,
    ...extra,
  });
}

/** The container's resource requests of a resolved config. */
function requestsOf(config: { container: Record<string, unknown> }): unknown {
  return (config.container.resources as { requests?: unknown } | undefined)?.requests;
}

function issuesOf(run: () => unknown): ConfigIssue[] {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return [...error.issues];
    throw error;
  }
  return expect.unreachable('no ConfigError');
}

describe('runtime overrides: keys', () => {
  it('reads dotted paths, and bracketed keys that hold dots', () => {
    expect(parseOverrideKey('cpu')).toEqual(['cpu']);
    expect(parseOverrideKey('container.resources.limits.memory')).toEqual([
      'container',
      'resources',
      'limits',
      'memory',
    ]);
    expect(parseOverrideKey('labels["app.kubernetes.io/name"]')).toEqual([
      'labels',
      'app.kubernetes.io/name',
    ]);
    expect(parseOverrideKey('container.resources.limits[nvidia.com/gpu]')).toEqual([
      'container',
      'resources',
      'limits',
      'nvidia.com/gpu',
    ]);
    expect(parseOverrideKey('a["x\\"y"].b')).toEqual(['a', 'x"y', 'b']);
  });

  it.each([
    ['', 'it is empty'],
    ['a..b', 'a "." has no key before it'],
    ['a.', 'it ends with "."'],
    ['a[b', 'a "[" is not closed'],
    ['a]', 'a "]" has no "[" before it'],
    ['a[]', 'a key in brackets is empty'],
    ['a[b]c', 'a key in brackets must be followed by "." or "["'],
  ])('says why %j cannot be read', (key, why) => {
    expect(parseOverrideKey(key)).toBe(why);
  });

  it('reports an unreadable key as an issue naming its override', () => {
    const issues = issuesOf(() => resolve([{ key: 'a..b', value: 1, source: '--set a..b=1' }]));
    expect(issues).toMatchObject([
      { code: 'INVALID_VALUE', path: 'a..b', location: { file: '--set a..b=1' } },
    ]);
  });
});

describe('runtime overrides: the override layer', () => {
  it('accepts every spelling a layer accepts: shorthands, simple keys, paths, snake or camel case', () => {
    const { config } = resolve({
      cpu: 4,
      memory: 8192,
      'container.resources.limits.memory': '16Gi',
      namespace: 'etl',
      service_account_name: 'runner',
      'pod.node_selector': 'pool=gpu',
      'job.backoff_limit': 3,
    });
    expect(config.container.resources).toEqual({
      requests: { cpu: '4', memory: '8192M' },
      limits: { memory: '16Gi' },
    });
    expect(config.namespace).toBe('etl');
    expect(config.pod?.serviceAccountName).toBe('runner');
    expect(config.pod?.nodeSelector).toEqual({ pool: 'gpu' });
    expect(config.job?.backoffLimit).toBe(3);
  });

  it('sits above the block layer and above a policy that is not enforced', () => {
    const { config, provenance } = resolve(
      { cpu: 4 },
      {
        pipeline: pipelineWithBlock('cpu: 1'),
        policy: 'enforce: false\ncpu: 2',
      },
    );
    expect(requestsOf(config)).toEqual({ cpu: '4' });
    expect(provenance['container.resources.requests.cpu']).toEqual({
      layer: 'override',
      sourcePath: 'cpu',
      location: { file: 'override cpu' },
    });
  });

  it('sits below an enforced policy', () => {
    const { config, provenance } = resolve(
      { cpu: 4, namespace: 'mine' },
      { policy: 'enforce: true\ncpu: 2' },
    );
    expect(requestsOf(config)).toEqual({ cpu: '2' });
    expect(provenance['container.resources.requests.cpu']?.layer).toBe('policy');
    expect(config.namespace).toBe('mine');
  });

  it('is a layer of a whole-pipeline run too (which has no block layer)', () => {
    const { config } = resolve({ memory: 1024 }, {}, { mode: 'pipeline' });
    expect(requestsOf(config)).toEqual({ memory: '1024M' });
  });

  it('applies a list in order: a later override wins for the same key, in any spelling', () => {
    const { config, provenance } = resolve([
      { key: 'use_tmpfs', value: true, source: '--set use_tmpfs=true' },
      { key: 'container.image', value: 'a:1', source: '--set container.image=a:1' },
      { key: 'useTmpfs', value: false, source: '--set useTmpfs=false' },
      { key: 'container.image', value: 'b:2', source: '--set container.image=b:2' },
    ]);
    expect(config.pod?.volumes).toBeUndefined();
    expect(config.container.image).toBe('b:2');
    expect(provenance['container.image']?.location).toEqual({ file: '--set container.image=b:2' });
  });

  it('reads the keys of one layer together: gpu with gpu_vendor, qos with cpu and memory, tmpfs with its size', () => {
    const { config } = resolve({
      gpu: 1,
      gpu_vendor: 'amd',
      qos: 'Guaranteed',
      cpu: 2,
      memory: 4096,
      use_tmpfs: true,
      tmpfs_size: 512,
    });
    expect(config.container.resources).toEqual({
      limits: { 'amd.com/gpu': '1', cpu: '2', memory: '4096M' },
      requests: { cpu: '2', memory: '4096M' },
    });
    expect(config.pod?.volumes).toEqual([
      { name: 'tmpfs', emptyDir: { medium: 'Memory', sizeLimit: '512Mi' } },
    ]);
  });

  it('removes what a lower layer set with REMOVE, as !remove does in a file', () => {
    const { config } = resolve({ cpu: REMOVE }, { pipeline: pipelineWithBlock('cpu: 1\nmemory: 512') });
    expect(requestsOf(config)).toEqual({ memory: '512M' });
  });

  it('sets one map key with dots, leaving the lower layers’ other keys', () => {
    const { config } = resolve(
      { 'labels["app.kubernetes.io/part-of"]': 'etl' },
      { project: projectWith(`${IMAGE}\nlabels: {team: data}`) },
    );
    expect(config.metadata?.labels).toEqual({ team: 'data', 'app.kubernetes.io/part-of': 'etl' });
  });

  it('takes an undefined value as no override (an optional field left out)', () => {
    const { config } = resolve({ cpu: undefined, memory: 512 });
    expect(requestsOf(config)).toEqual({ memory: '512M' });
  });

  it('never writes into a map the caller passed', () => {
    const resources = Object.freeze({ limits: Object.freeze({ cpu: '1' }) });
    const { config } = resolve([
      { key: 'container.resources', value: resources },
      { key: 'container.resources.limits.memory', value: '1Gi' },
    ]);
    expect(config.container.resources).toEqual({ limits: { cpu: '1', memory: '1Gi' } });
    expect(resources).toEqual({ limits: { cpu: '1' } });
  });
});

describe('runtime overrides: invalid values', () => {
  it('are ConfigErrors through the same normalization and validation as files, naming the flag', () => {
    const issues = issuesOf(() =>
      resolve([
        { key: 'cpu', value: 'lots', source: '--set cpu=lots' },
        { key: 'job.backoff_limit', value: 'three', source: '--set job.backoff_limit=three' },
        { key: 'image_pull_policy', value: 'Sometimes', source: '--set image_pull_policy=Sometimes' },
      ]),
    );
    expect(issues.map(formatConfigIssue).sort()).toEqual([
      '--set cpu=lots: cpu: "lots" is not a Kubernetes quantity: write e.g. 500m or 2 for CPU, 512Mi or 2Gi for memory (not 2GB). [INVALID_QUANTITY]',
      '--set image_pull_policy=Sometimes: image_pull_policy: "Sometimes" is not allowed: use one of Always, IfNotPresent, Never. [INVALID_VALUE]',
      '--set job.backoff_limit=three: job.backoff_limit: expected a whole number, got a string. [INVALID_TYPE]',
    ]);
  });

  it('names a top-level key that is a field of the container, the pod or the Job by its path', () => {
    const issues = issuesOf(() => resolve({ backoff_limit: 3, working_dir: '/app' }));
    expect(issues.map((i) => [i.code, i.path, i.message])).toEqual([
      [
        'UNKNOWN_KEY',
        'backoff_limit',
        'unknown key "backoff_limit" at the top level of an override: it is a field of the job, so write its path, job.backoff_limit.',
      ],
      [
        'UNKNOWN_KEY',
        'working_dir',
        'unknown key "working_dir" at the top level of an override: it is a field of the container, so write its path, container.working_dir.',
      ],
    ]);
  });

  it('reports two spellings of one field with different values, naming both flags', () => {
    const issues = issuesOf(() =>
      resolve([
        { key: 'cpu', value: 4, source: '--set cpu=4' },
        {
          key: 'container.resources.requests.cpu',
          value: 2,
          source: '--set container.resources.requests.cpu=2',
        },
      ]),
    );
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ code: 'CONFLICTING_KEYS' });
    expect(formatConfigIssue(issues[0]!)).toMatch(/--set (cpu=4|container\.resources\.requests\.cpu=2)/);
    expect(issues[0]!.message).toMatch(/cpu/);
  });
});

describe('runtime overrides in explain', () => {
  it('are their own layer, with the flag as their source', () => {
    const rows = explainConfig(
      resolve([{ key: 'memory', value: 2048, source: '--set memory=2048' }], {
        pipeline: pipelineWithBlock('memory: 1024'),
      }),
    );
    expect(rows.find((r) => r.path === 'container.resources.requests.memory')).toEqual({
      path: 'container.resources.requests.memory',
      value: '2048M',
      origin: { layer: 'override', sourcePath: 'memory', location: { file: '--set memory=2048' } },
    });
  });
});
