import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CORE_BLOCKS, coreIdentity, coreSnapshot } from '../../bench/core-loop.js';
import { resolveConfig } from '../../src/config/index.js';
import { BoundedCache, inputsKey } from '../../src/config/memo.js';
import { resolveWithReport } from '../../src/config/resolve.js';
import { isTemplated, renderTemplate } from '../../src/config/template.js';
import { prepareJob } from '../../src/executor/prepare.js';
import type { ConfigSnapshot } from '../../src/ports/config-source.js';
import { stableJson } from '../../src/spec/stable-json.js';
import type { RunIdentity } from '../../src/types/run.js';
import { BLOCK_RUN, pipelineWithBlock, projectWith, snapshotOf } from './snapshot-helper.js';

/** Everything a prepared run is made of, as one string (the Job, its name, the config and provenance). */
function prepared(snapshot: ConfigSnapshot, identity: RunIdentity, mode: 'block' | 'pipeline' = 'block') {
  const run = prepareJob({ snapshot, mode, identity });
  return stableJson({ job: run.job, name: run.jobName, resolved: run.resolved });
}

describe('the resolve caches give byte-identical results, cold or warm', () => {
  it('every block of the bench workload, prepared cold then warm', async () => {
    const shared = await coreSnapshot();
    for (let block = 0; block < CORE_BLOCKS; block++) {
      const identity = coreIdentity(block);
      // Cold: a snapshot loaded for this block alone, so no cache has seen it.
      const cold = prepared(await coreSnapshot(), identity);
      expect(prepared(shared, identity)).toBe(cold);
      expect(prepared(shared, identity)).toBe(cold);
      // Another run of the block reuses the stage: its Job differs only by the run's own values.
      const next = coreIdentity(block + CORE_BLOCKS);
      expect(prepared(shared, next)).toBe(prepared(await coreSnapshot(), next));
    }
  });

  it('templates that render differently in every run, and the mage preset', async () => {
    const perRun = await coreSnapshot('echo {{ block_uuid }} {{ block_run_id }}');
    const preset = snapshotOf({
      project: projectWith('image: x\ncommand: mage'),
      pipeline: pipelineWithBlock(''),
    });
    for (let i = 0; i < 3 * CORE_BLOCKS; i++) {
      const identity = coreIdentity(i);
      expect(prepared(perRun, identity)).toBe(
        prepared(await coreSnapshot('echo {{ block_uuid }} {{ block_run_id }}'), identity),
      );
      const run = { ...BLOCK_RUN, blockRunId: String(i), attempt: 1 + (i % 3) };
      const fresh = snapshotOf({
        project: projectWith('image: x\ncommand: mage'),
        pipeline: pipelineWithBlock(''),
      });
      expect(prepared(preset, run)).toBe(prepared(fresh, run));
      const whole = { pipelineUuid: 'p', pipelineRunId: String(i) };
      expect(prepared(preset, whole, 'pipeline')).toBe(prepared(fresh, whole, 'pipeline'));
    }
  });

  const files = {
    env: { REGISTRY: 'reg.example.com' },
    project: projectWith(`image: "{{ env_var('REGISTRY') }}/etl:{{ variables('version') }}"
namespace: "team-{{ team }}"
job_name_prefix: "{{ pipeline_uuid }}-{trigger_name}"
labels: {block: "{{ block_uuid }}", attempt: "{{ attempt }}", fixed: "yes"}
annotations: {run: "{{ pipeline_run_id }}/{{ block_run_id }}"}
container:
  command: [python, "/home/src/{{ pipeline_uuid }}/{{ block_uuid }}.py"]
  args: ["--trigger={{ trigger_name }}"]`),
    pipeline: `uuid: p
blocks:
- {uuid: a, executor_type: k8s}
- {uuid: b, executor_type: k8s, executor_config: {cpu: 1}}
- {uuid: c, executor_type: k8s, executor_config: {namespace: "{{ missing }}"}}
`,
  };
  /** What a run resolves to: its config and provenance, or its issues. */
  const outcome = (snapshot: ConfigSnapshot, identity: RunIdentity, variables: Record<string, unknown>) => {
    const report = resolveWithReport({ snapshot, mode: 'block', identity, variables });
    return stableJson({ resolved: report.resolved ?? {}, issues: report.issues, warnings: report.warnings });
  };

  it('any sequence of runs resolves as each run does alone (property)', () => {
    const run = fc.record({
      block: fc.constantFrom('a', 'b', 'c', 'nope'),
      blockRunId: fc.constantFrom('1', '2', '42'),
      attempt: fc.integer({ min: 1, max: 3 }),
      triggerName: fc.option(fc.constantFrom('nightly', 'Hourly_Load'), { nil: undefined }),
      team: fc.option(fc.constantFrom('data', 'ml', 'Bad_Name'), { nil: undefined }),
      version: fc.option(fc.constantFrom('1.0', 2), { nil: undefined }),
    });
    fc.assert(
      fc.property(fc.array(run, { minLength: 1, maxLength: 12 }), (runs) => {
        const warm = snapshotOf(files);
        for (const r of runs) {
          const identity: RunIdentity = {
            pipelineUuid: 'p',
            pipelineRunId: '7',
            blockUuid: r.block,
            blockRunId: r.blockRunId,
            attempt: r.attempt,
            ...(r.triggerName !== undefined ? { triggerName: r.triggerName } : {}),
          };
          const variables = {
            ...(r.team !== undefined ? { team: r.team } : {}),
            ...(r.version !== undefined ? { version: r.version } : {}),
          };
          expect(outcome(warm, identity, variables)).toBe(outcome(snapshotOf(files), identity, variables));
        }
      }),
      { numRuns: 60 },
    );
  });
});

describe('what the caches are keyed on', () => {
  const identity = BLOCK_RUN;
  const namespaceOf = (snapshot: ConfigSnapshot) =>
    resolveConfig({ snapshot, mode: 'block', identity }).config.namespace;

  it('a part of the snapshot replaced is seen: env, a document, a new issue', () => {
    const snapshot = snapshotOf({ project: projectWith('image: x'), pipeline: pipelineWithBlock('') });
    expect(namespaceOf(snapshot)).toBe('default');
    snapshot.env = { KUBE_NAMESPACE: 'from-env' };
    expect(namespaceOf(snapshot)).toBe('from-env');
    snapshot.project = snapshotOf({ project: projectWith('image: x\nnamespace: other') }).project!;
    expect(namespaceOf(snapshot)).toBe('other');
    snapshot.issues.push({ code: 'YAML_SYNTAX', path: '', message: 'broken', location: { file: 'x.yaml' } });
    expect(() => namespaceOf(snapshot)).toThrow(/broken/);
  });

  it('the server pod is part of the key, by identity', () => {
    const snapshot = snapshotOf({ project: projectWith('namespace: n'), pipeline: pipelineWithBlock('') });
    const pod = (image: string) => ({
      containerName: 'main',
      pod: { metadata: { name: 'server' }, spec: { containers: [{ name: 'main', image }] } },
    });
    const imageWith = (serverPod?: ReturnType<typeof pod>) =>
      resolveWithReport({ snapshot, mode: 'block', identity, ...(serverPod ? { serverPod } : {}) }).resolved
        ?.config.container.image;
    expect(imageWith(pod('one'))).toBe('one');
    expect(imageWith(pod('two'))).toBe('two');
    expect(imageWith()).toBeUndefined();
  });

  it('callers cannot change what the caches hold', () => {
    const snapshot = snapshotOf({
      project: projectWith('namespace: "{{ nope }}"'),
      pipeline: pipelineWithBlock(''),
    });
    const first = resolveWithReport({ snapshot, mode: 'block', identity });
    first.issues.length = 0;
    first.warnings.push({ code: 'DEDENTED_KEYS', path: 'x', message: 'added' } as never);
    const again = resolveWithReport({ snapshot, mode: 'block', identity });
    expect(again.issues.map((i) => i.code)).toEqual(['TEMPLATE_UNDEFINED', 'MISSING_IMAGE']);
    expect(again.warnings).toEqual([]);

    const good = snapshotOf({
      project: projectWith('image: x\nlabels: {a: "1"}'),
      pipeline: pipelineWithBlock(''),
    });
    const resolved = resolveConfig({ snapshot: good, mode: 'block', identity });
    expect(() => {
      (resolved.config.metadata!.labels as Record<string, string>).a = '2';
    }).toThrow(TypeError);
    const job = prepareJob({ snapshot: good, mode: 'block', identity }).job;
    job.metadata.labels!.a = 'changed';
    expect(prepareJob({ snapshot: good, mode: 'block', identity }).job.metadata.labels!.a).toBe('1');
  });
});

describe('what the caches freeze', () => {
  it("the results, never the snapshot's own documents", async () => {
    const snapshot = await coreSnapshot();
    prepareJob({ snapshot, mode: 'block', identity: coreIdentity(0) });
    const anyFrozen = (value: unknown): boolean =>
      typeof value === 'object' &&
      value !== null &&
      (Object.isFrozen(value) || Object.values(value).some(anyFrozen));
    expect(anyFrozen(snapshot.project?.value)).toBe(false);
    expect(anyFrozen(snapshot.pipeline?.value)).toBe(false);
    expect(Object.isFrozen(snapshot)).toBe(false);
  });
});

describe('inputsKey', () => {
  const snapshot = { env: {}, issues: [] };

  it('reads every field, so a field added to an input is in the key without being listed', () => {
    const before = inputsKey({ mode: 'block', snapshot });
    expect(inputsKey({ mode: 'block', snapshot, overrides: { cpu: '2' } })).not.toBe(before);
    expect(inputsKey({ snapshot, mode: 'block' })).toBe(before);
    expect(inputsKey({ mode: 'block', snapshot, blockUuid: undefined })).toBe(before);
  });

  it('tells values apart by value, objects by identity and by their own fields', () => {
    expect(inputsKey({ a: '1' })).not.toBe(inputsKey({ a: 1 }));
    expect(inputsKey({ a: 'x|b=1' })).not.toBe(inputsKey({ a: 'x', b: 1 }));
    expect(inputsKey({ snapshot })).not.toBe(inputsKey({ snapshot: { env: {}, issues: [] } }));
    const mutable: { env: object; issues: unknown[] } = { env: {}, issues: [] };
    const key = inputsKey({ snapshot: mutable });
    mutable.env = {};
    expect(inputsKey({ snapshot: mutable })).not.toBe(key);
    const afterEnv = inputsKey({ snapshot: mutable });
    mutable.issues.push('x');
    expect(inputsKey({ snapshot: mutable })).not.toBe(afterEnv);
  });
});

describe('BoundedCache', () => {
  it('computes once per key and keeps at most twice its limit, the latest used', () => {
    const cache = new BoundedCache<number, string>(3);
    let computed = 0;
    const get = (key: number) =>
      cache.getOrCompute(key, () => {
        computed++;
        return `v${key}`;
      });
    for (const key of [1, 2, 3, 1, 2, 3]) get(key);
    expect(computed).toBe(3);
    for (let key = 4; key < 20; key++) get(key);
    expect(cache.size).toBeLessThanOrEqual(6);
    computed = 0;
    expect(get(19)).toBe('v19');
    expect(computed).toBe(0);
    expect(get(1)).toBe('v1');
    expect(computed).toBe(1);
  });
});

describe('isTemplated', () => {
  it('a text it rejects renders to itself, whatever the scope (property)', () => {
    const scope = { env: { A: 'x' }, variables: { a: 1 } };
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('{', '}', '%', 'a', ' ', "'", '(', ')') }), (text) => {
        if (isTemplated(text)) return;
        expect(renderTemplate(text, scope)).toEqual({ ok: true, value: text });
      }),
    );
  });
});

describe('blocks that add no layer of their own share one merge', () => {
  const files = () => ({
    project: projectWith(
      'container:\n  image: busybox\n  command: ["sh", "-c", "echo {{ block_uuid }} {{ block_run_id }}"]\ncpu: 250m',
    ),
    pipeline: `uuid: p
blocks:
- uuid: a
  executor_type: k8s
- uuid: b
  executor_type: k8s
  upstream_blocks: [a]
- uuid: own
  executor_type: k8s
  executor_config:
    cpu: "2"
- uuid: typo
  executor_type: k8s
  executor_confg:
    cpu: "3"
- uuid: nothing
  executor_type: k8s
  executor_config:
`,
  });
  const run = (blockUuid: string, i: number): RunIdentity => ({
    pipelineUuid: 'p',
    pipelineRunId: '7',
    blockUuid,
    blockRunId: String(i),
    attempt: 1,
  });
  const order = ['a', 'own', 'b', 'typo', 'nothing', 'missing', 'a', 'b', 'own'];

  it('every block resolves exactly as it does alone, in any order', () => {
    const shared = snapshotOf(files());
    order.forEach((block, i) => {
      const alone = resolveWithReport({
        snapshot: snapshotOf(files()),
        mode: 'block',
        identity: run(block, i),
      });
      const together = resolveWithReport({ snapshot: shared, mode: 'block', identity: run(block, i) });
      expect(stableJson(together)).toBe(stableJson(alone));
    });
  });

  it('the blocks without a layer get one provenance; a block with its own layer gets its own', () => {
    const snapshot = snapshotOf(files());
    const resolved = (block: string, i: number) =>
      resolveConfig({ snapshot, mode: 'block', identity: run(block, i) });
    const [a, b, nothing, own] = [
      resolved('a', 1),
      resolved('b', 2),
      resolved('nothing', 3),
      resolved('own', 4),
    ];
    expect(b.provenance).toBe(a.provenance);
    expect(nothing.provenance).toBe(a.provenance); // an empty executor_config is no layer (empty = not set)
    expect(own.provenance).not.toBe(a.provenance);
    expect(stableJson(own.config.container.resources)).toContain('"cpu":"2"');
    expect(a.config.container.command).toEqual(['sh', '-c', 'echo a 1']);
    expect(b.config.container.command).toEqual(['sh', '-c', 'echo b 2']);
    // A misspelled executor_config (reported by `validate`) leaves its block's merge incomplete: its own.
    expect(resolved('typo', 5).provenance).not.toBe(a.provenance);
    expect(resolveWithReport({ snapshot, mode: 'block', identity: run('a', 6) }).issues).toEqual([]);
    expect(
      resolveWithReport({ snapshot, mode: 'block', identity: run('missing', 7) }).issues.map((i) => i.code),
    ).toContain('UNKNOWN_BLOCK');
  });

  it('the mage preset still names each block in its command', () => {
    const snapshot = snapshotOf({
      project: projectWith('image: x\ncommand: mage'),
      pipeline: 'uuid: p\nblocks:\n- uuid: a\n  executor_type: k8s\n- uuid: b\n  executor_type: k8s\n',
    });
    const command = (block: string) =>
      resolveConfig({ snapshot, mode: 'block', identity: run(block, 1) }).config.container
        .command as string[];
    expect(command('a')).toContain('a');
    expect(command('b')).toEqual(command('a').map((word) => (word === 'a' ? 'b' : word)));
  });
});
