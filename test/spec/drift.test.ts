import { describe, expect, it } from 'vitest';
import type { ConfigOverrides } from '../../src/config/index.js';
import { prepareJob } from '../../src/executor/prepare.js';
import {
  CONFIG_FIELDS_ANNOTATION,
  CONFIG_FIELDS_MAX_LENGTH,
  CONFIG_HASH_ANNOTATION,
  configDrift,
  configRecordOf,
  describeConfigChange,
  recordedConfig,
} from '../../src/spec/drift.js';
import type { Job } from '../../src/types/kube.js';
import { pipelineWithBlock, projectWith, snapshotOf } from '../config/snapshot-helper.js';

const PROJECT = projectWith('image: img:1\nresource_limits: {memory: 2Gi}');

function prepare(
  block: string,
  extra: { attempt?: number; overrides?: ConfigOverrides; project?: string } = {},
) {
  return prepareJob({
    snapshot: snapshotOf({ project: extra.project ?? PROJECT, pipeline: pipelineWithBlock(block) }),
    mode: 'block',
    identity: {
      pipelineUuid: 'p',
      pipelineRunId: '7',
      blockUuid: 'b',
      blockRunId: '1',
      attempt: extra.attempt ?? 1,
    },
    command: ['python', 'b.py'],
    ...(extra.overrides ? { overrides: extra.overrides } : {}),
  });
}

describe('the config record as buildJob computes it (sorted, remembered per resolved config)', () => {
  it("equals configRecordOf of the Job's own template, for every run of one resolved config", () => {
    const snapshot = snapshotOf({
      project: PROJECT,
      pipeline: pipelineWithBlock('cpu: 1\ncontainer: {env: [{name: A, value: x}]}'),
    });
    for (const [blockRunId, attempt, command] of [
      ['1', 1, ['python', 'b.py']],
      ['2', 3, ['python', 'b.py']],
      ['2', 3, ['python', 'other.py']],
      ['3', 1, undefined],
    ] as const) {
      const { job } = prepareJob({
        snapshot,
        mode: 'block',
        identity: { pipelineUuid: 'p', pipelineRunId: '7', blockUuid: 'b', blockRunId, attempt },
        ...(command ? { command: [...command] } : {}),
      });
      const fresh = configRecordOf(job.spec!.template).annotations;
      expect(job.metadata.annotations).toMatchObject(fresh);
    }
  });

  it('keeps its hash from one version to the next (a change would report drift on every resume)', () => {
    const { job } = prepare('cpu: 1');
    expect(job.metadata.annotations?.[CONFIG_HASH_ANNOTATION]).toBe('8dc77fc6eb74e380');
  });
});

describe('the config record on every Job', () => {
  it('is the same for every attempt of one block run: the run identity is left out', () => {
    const first = prepare('cpu: 1', { attempt: 1 });
    const second = prepare('cpu: 1', { attempt: 2 });
    expect(first.jobName).not.toBe(second.jobName);
    expect(first.job.spec?.template.metadata?.labels?.['k8s-executor/attempt']).toBe('1');
    expect(second.job.spec?.template.metadata?.labels?.['k8s-executor/attempt']).toBe('2');
    expect(recordedConfig(second.job)).toEqual(recordedConfig(first.job));
    expect(configDrift(first.job, second.job)).toEqual({ changed: false, changes: [], fieldsKnown: true });
  });

  it('is on the Job only, not on its pod template (which it describes)', () => {
    const { job } = prepare('');
    expect(job.metadata.annotations?.[CONFIG_HASH_ANNOTATION]).toMatch(/^[0-9a-f]{16}$/);
    expect(job.metadata.annotations?.[CONFIG_FIELDS_ANNOTATION]).toBeDefined();
    expect(job.spec?.template.metadata?.annotations).not.toHaveProperty(CONFIG_HASH_ANNOTATION);
  });

  it('records the fields by canonical path, with no identity label or annotation', () => {
    const record = recordedConfig(prepare('labels: {team: ml}').job);
    expect(record?.fields).toMatchObject({
      'container.image': 'img:1',
      'container.command': '["python","b.py"]',
      'container.resources.limits.memory': '2Gi',
      'metadata.labels.team': 'ml',
      'pod.restartPolicy': 'Never',
    });
    expect(Object.keys(record?.fields ?? {}).filter((k) => k.includes('k8s-executor/'))).toEqual([]);
    expect(Object.keys(record?.fields ?? {}).some((k) => k.includes('managed-by'))).toBe(false);
  });

  it('changes with the pod template, not with Job-level fields', () => {
    const base = recordedConfig(prepare('').job)!;
    expect(recordedConfig(prepare('job: {backoff_limit: 3}').job)?.hash).toBe(base.hash);
    expect(recordedConfig(prepare('queue_name: q').job)?.hash).toBe(base.hash);
    expect(recordedConfig(prepare('cpu: 2').job)?.hash).not.toBe(base.hash);
    expect(recordedConfig(prepare('labels: {a: b}').job)?.hash).not.toBe(base.hash);
  });

  it('never holds an env value: env items are recorded as a hash', () => {
    const { job } = prepare('container: {env: [{name: TOKEN, value: s3cr3t-value}]}');
    const annotation = job.metadata.annotations?.[CONFIG_FIELDS_ANNOTATION] ?? '';
    expect(annotation).not.toContain('s3cr3t-value');
    expect(recordedConfig(job)?.fields?.['container.env[TOKEN]']).toMatch(/^sha256:[0-9a-f]{12}$/);
  });

  it('keeps the field list within its bound: long values hashed first, then the list left out', () => {
    const many = (n: number, length: number) =>
      `labels: {${Array.from({ length: n }, (_, i) => `l${i}: ${'v'.repeat(length)}`).join(', ')}}`;
    const hashed = recordedConfig(prepare(many(120, 60)).job);
    expect(Object.values(hashed?.fields ?? {}).every((v) => v.startsWith('sha256:'))).toBe(true);
    expect(JSON.stringify(hashed?.fields).length).toBeLessThanOrEqual(CONFIG_FIELDS_MAX_LENGTH);
    const tooMany = prepare(many(400, 10)).job;
    expect(tooMany.metadata.annotations).not.toHaveProperty(CONFIG_FIELDS_ANNOTATION);
    expect(recordedConfig(tooMany)).toEqual({ hash: expect.stringMatching(/^[0-9a-f]{16}$/) });
  });

  it('is a pure function of the pod template', () => {
    const { job } = prepare('cpu: 1');
    const template = structuredClone(job.spec!.template);
    expect(configRecordOf(template)).toEqual(configRecordOf(job.spec!.template));
    expect(configRecordOf(template).hash).toBe(job.metadata.annotations?.[CONFIG_HASH_ANNOTATION]);
  });
});

describe('configDrift: what changed since an earlier attempt', () => {
  it('names each changed field, old and new value, and where the new one is set', () => {
    const earlier = prepare('cpu: 1').job;
    const now = prepare('cpu: 1\nresource_limits: {memory: 4Gi}\nnode_selector: {pool: gpu}');
    const drift = configDrift(earlier, now.job, now.resolved.provenance);
    expect(drift?.changed).toBe(true);
    expect(drift?.changes.map(describeConfigChange)).toEqual([
      'container.resources.limits.memory 2Gi → 4Gi, set in proj/pipelines/p/metadata.yaml:7',
      'pod.nodeSelector.pool (not set) → gpu, set in proj/pipelines/p/metadata.yaml:8',
    ]);
  });

  it('says a field is no longer set, and names an override as the flag that set it', () => {
    const earlier = prepare('node_selector: {pool: gpu}').job;
    const now = prepare('', { overrides: [{ key: 'cpu', value: 4, source: '--set cpu=4' }] });
    expect(configDrift(earlier, now.job, now.resolved.provenance)?.changes.map(describeConfigChange)).toEqual(
      [
        'container.resources.requests.cpu (not set) → 4, set by --set cpu=4',
        'pod.nodeSelector.pool gpu → (not set)',
      ],
    );
  });

  it('says an env item changed without its values', () => {
    const earlier = prepare('container: {env: [{name: TOKEN, value: old}]}').job;
    const now = prepare('container: {env: [{name: TOKEN, value: new}]}');
    const [change] = configDrift(earlier, now.job, now.resolved.provenance)?.changes ?? [];
    expect(change).toMatchObject({ path: 'container.env[TOKEN]', hidden: true });
    expect(describeConfigChange(change!)).toBe(
      'container.env[TOKEN] changed, set in proj/pipelines/p/metadata.yaml:6',
    );
  });

  it('compares records too (a resumed run reads the earlier Job; a caller may keep records)', () => {
    const a = configRecordOf(prepare('cpu: 1').job.spec!.template);
    const b = configRecordOf(prepare('cpu: 2').job.spec!.template);
    expect(configDrift(a, b)?.changes).toEqual([
      { path: 'container.resources.requests.cpu', before: '1', after: '2', hidden: false },
    ]);
  });

  it('cannot tell for a Job without a record, and tells only the hash without a field list', () => {
    const old: Job = {
      metadata: { name: 'x', annotations: {} },
      spec: { template: { spec: { containers: [] } } },
    };
    expect(configDrift(old, prepare('').job)).toBeUndefined();
    expect(configDrift({ hash: 'aaaa' }, { hash: 'bbbb', fields: {} })).toEqual({
      changed: true,
      changes: [],
      fieldsKnown: false,
    });
  });

  it('reads a field list that does not parse as no list', () => {
    const job: Job = {
      metadata: { annotations: { [CONFIG_HASH_ANNOTATION]: 'abc', [CONFIG_FIELDS_ANNOTATION]: '{"a": 1' } },
    };
    expect(recordedConfig(job)).toEqual({ hash: 'abc' });
    job.metadata.annotations![CONFIG_FIELDS_ANNOTATION] = '{"a": 1}';
    expect(recordedConfig(job)).toEqual({ hash: 'abc' });
  });
});
