import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { stringify } from 'yaml';
import { ConfigError } from '../../src/errors/config-error.js';
import { K8sBlockExecutor } from '../../src/executor/block-executor.js';
import { K8sPipelineExecutor } from '../../src/executor/pipeline-executor.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { InMemoryJobClient } from '../../src/testing/in-memory-job-client.js';
import { StaticConfigSource } from '../../src/testing/static-config-source.js';
import { drive } from '../helpers/drive.js';

/**
 * A corpus of malformed configs, drawn by fast-check with a fixed seed: wrong types, unknown keys, bad
 * quantities, nulls, deep nesting, huge strings, broken YAML. Whatever the input, the executor must
 * answer with a ConfigError (or, for the odd input that happens to be valid, run normally) — never
 * another exception, never a hang, and never an API call before the config is known to be valid.
 */

const SEED = 20_241_125;

/** Keys the config understands, at the top level and inside its sections, to get past the first check. */
const KNOWN_KEYS = [
  'namespace',
  'job_name_prefix',
  'resource_limits',
  'resource_requests',
  'service_account_name',
  'container_config',
  'container',
  'pod',
  'job',
  'metadata',
  'cpu',
  'memory',
  'gpu',
  'image',
  'env',
  'labels',
  'annotations',
  'tolerations',
  'node_selector',
  'secrets',
  'volumes',
  'volume_mounts',
  'backoff_limit',
  'active_deadline_seconds',
  'ttl_seconds_after_finished',
  'command',
  'args',
  'limits',
  'requests',
  'name',
  'value',
  'value_from',
  'persistent_volume_claims',
  'shared_memory',
  'image_pull_secrets',
];

const quantity = fc.oneof(
  fc.constantFrom(
    '500m',
    '2Gi',
    '1.5',
    '-1',
    '12Qi',
    '1.2.3',
    'lots',
    '',
    '0x10',
    '1e400',
    'Infinity',
    ' 1Gi',
  ),
  fc.string({ maxLength: 8 }),
);

const scalar = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  quantity,
  fc.constantFrom(
    '{{ env_var("MISSING") }}',
    '{{ variables("nope") }}',
    '{{ unclosed',
    '{trigger_name}',
    'UPPER_case name!',
  ),
  fc.string({ minLength: 5_000, maxLength: 20_000 }),
);

/** YAML-ish trees: maps over known and random keys, lists, scalars. */
const { tree } = fc.letrec<{ tree: unknown }>((tie) => ({
  tree: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalar,
    fc.dictionary(fc.oneof(fc.constantFrom(...KNOWN_KEYS), fc.string({ maxLength: 12 })), tie('tree'), {
      maxKeys: 5,
    }),
    fc.array(tie('tree'), { maxLength: 4 }),
  ),
}));

/** A value nested `depth` maps deep under a known key. */
const deepNesting = fc
  .integer({ min: 50, max: 400 })
  .map((depth) => Array.from({ length: depth }).reduce<unknown>((inner) => ({ container: inner }), 'x'));

/** An executor config (a map) made of the pieces above. */
const executorConfig = fc.oneof(
  fc.dictionary(fc.constantFrom(...KNOWN_KEYS), tree, { minKeys: 1, maxKeys: 6 }),
  fc.dictionary(fc.string({ maxLength: 12 }), tree, { maxKeys: 4 }),
  deepNesting.map((deep) => ({ pod: deep })),
  tree,
);

/** A defect that is an error wherever it appears: each of these must be reported. */
const certainDefect = fc.oneof(
  fc.constant({ namespace: 'Not_A_DNS_Name!' }),
  fc.constant({ namespace: ['a', 'list'] }),
  fc.constant({ resource_limits: { cpu: 'lots' } }),
  fc.constant({ resource_requests: { memory: '12Qi' } }),
  fc.constant({ no_such_setting: true }),
  fc.constant({ container: { image: 'x', imagePullPolicy: 'Sometimes' } }),
  fc.constant({ job: { backoff_limit: 'three' } }),
  fc.constant({ container: { command: '{{ env_var("NOT_SET_ANYWHERE") }}' } }),
);

function project(projectConfig: unknown, blockConfig: unknown): Record<string, string> {
  return {
    'metadata.yaml': stringify({ executor_type: 'k8s', k8s_executor_config: projectConfig }),
    'pipelines/etl/metadata.yaml': stringify({
      uuid: 'etl',
      blocks: [{ uuid: 'load', executor_type: 'k8s', executor_config: blockConfig }],
    }),
  };
}

const RUN = { pipelineUuid: 'etl', blockUuid: 'load', pipelineRunId: 1, blockRunId: 1 };

/** Runs one block with these files; returns what happened and the API calls made. */
async function executeWith(files: Record<string, string>) {
  const clock = new FakeClock();
  const jobClient = new InMemoryJobClient({ clock });
  const executor = new K8sBlockExecutor({ configSource: new StaticConfigSource(files), jobClient, clock });
  const outcome = await drive(clock, executor.execute(RUN), 1000, 60_000).then(
    (result) => ({ result }),
    (error: unknown) => ({ error }),
  );
  executor.close();
  return { ...outcome, calls: jobClient.calls.length };
}

describe('malformed configs (fast-check corpus)', () => {
  it('a config with a certain defect, anywhere among random noise, gives a ConfigError and no API call', async () => {
    await fc.assert(
      fc.asyncProperty(executorConfig, certainDefect, fc.boolean(), async (noise, defect, defectInBlock) => {
        const base = { container: { image: 'busybox:1.36' } };
        const withDefect = { ...base, ...defect };
        const files = defectInBlock ? project(base, withDefect) : project(withDefect, noise);
        const outcome = await executeWith(files);
        const error = 'error' in outcome ? outcome.error : undefined;
        expect(error).toBeInstanceOf(ConfigError);
        expect((error as ConfigError).issues.length).toBeGreaterThan(0);
        expect(outcome.calls).toBe(0);
      }),
      { seed: SEED, numRuns: 150 },
    );
  });

  it('any random config tree gives a ConfigError (with no API call) or a normal run, never another exception', async () => {
    const seen = { configErrors: 0, runs: 0 };
    await fc.assert(
      fc.asyncProperty(executorConfig, executorConfig, async (projectConfig, blockConfig) => {
        const outcome = await executeWith(project(projectConfig, blockConfig));
        if ('error' in outcome) {
          expect(outcome.error).toBeInstanceOf(ConfigError);
          expect(outcome.calls).toBe(0);
          seen.configErrors++;
        } else {
          expect(['succeeded', 'failed']).toContain(outcome.result.status);
          seen.runs++;
        }
      }),
      { seed: SEED, numRuns: 300 },
    );
    // The corpus is mostly broken, as intended.
    expect(seen.configErrors).toBeGreaterThan(seen.runs);
  });

  it('broken YAML text and malformed pipeline files give a ConfigError and no API call', async () => {
    // A collection key (`[x]: 1`) is a ConfigIssue, not a process warning: any warning fails the test.
    const warnings = vi.spyOn(process, 'emitWarning');
    const text = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.constantFrom(
        'k8s_executor_config: [',
        'a: b: c',
        '\t- x',
        'key: &a [*a]',
        '"unterminated',
        'x: 1\nx: 2',
        '[x]: 1',
        'k8s_executor_config:\n  ? {a: 1}\n  : 2',
      ),
    );
    const blocks = fc.oneof(
      tree,
      fc.constant([
        { uuid: 'a', upstream_blocks: ['b'] },
        { uuid: 'b', upstream_blocks: ['a'] },
      ]),
      fc.constant([{ uuid: 'a', upstream_blocks: ['ghost'] }]),
      fc.constant([{ uuid: 'a' }, { uuid: 'a' }]),
    );
    await fc.assert(
      fc.asyncProperty(text, blocks, async (projectText, pipelineBlocks) => {
        const clock = new FakeClock();
        const jobClient = new InMemoryJobClient({ clock });
        const configSource = new StaticConfigSource({
          'metadata.yaml': `executor_type: k8s\n${projectText}`,
          'pipelines/etl/metadata.yaml': stringify({ uuid: 'etl', blocks: pipelineBlocks }),
        });
        const executor = new K8sPipelineExecutor({ configSource, jobClient, clock });
        const outcome = await drive(
          clock,
          executor.run({ pipelineUuid: 'etl', pipelineRunId: 1 }),
          1000,
          60_000,
        ).then(
          (result) => ({ result }),
          (error: unknown) => ({ error }),
        );
        executor.close();
        if ('error' in outcome) {
          expect(outcome.error).toBeInstanceOf(ConfigError);
          expect(jobClient.calls).toEqual([]);
        } else {
          expect(['succeeded', 'failed']).toContain(outcome.result.status);
        }
      }),
      { seed: SEED, numRuns: 150 },
    );
    expect(warnings).not.toHaveBeenCalled();
    warnings.mockRestore();
  });
});
