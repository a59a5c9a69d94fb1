import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Job as JobModel } from 'kubernetes-models/batch/v1';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { jobName } from '../../src/naming/job-name.js';
import { isJobOfRun } from '../../src/naming/labels.js';
import { type BuildJobInput, buildJob } from '../../src/spec/build-job.js';
import { stableJson } from '../../src/spec/stable-json.js';
import type { Job } from '../../src/types/kube.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/jobs/', import.meta.url));

interface JobFixture {
  input: BuildJobInput;
  expected: Job;
}

const fixtures = readdirSync(FIXTURES)
  .filter((file) => file.endsWith('.yaml'))
  .sort()
  .map((file) => ({ file, ...(parse(readFileSync(`${FIXTURES}${file}`, 'utf8')) as JobFixture) }));

/** The same value with every object's keys in reverse order. */
function reverseKeys<T>(value: T): T {
  if (Array.isArray(value)) return value.map(reverseKeys) as T;
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.keys(value)
      .reverse()
      .map((key) => [key, reverseKeys((value as Record<string, unknown>)[key])]),
  ) as T;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const item of Object.values(value)) deepFreeze(item);
    Object.freeze(value);
  }
  return value;
}

function fixture(name: string): JobFixture {
  const found = fixtures.find((f) => f.file === name);
  if (!found) throw new Error(`missing fixture ${name}`);
  return structuredClone({ input: found.input, expected: found.expected });
}

describe('buildJob: YAML fixtures', () => {
  it('has fixtures to check', () => {
    expect(fixtures.map((f) => f.file)).toEqual([
      'minimal-block.yaml',
      'pipeline-run.yaml',
      'rich-block.yaml',
    ]);
  });

  it.each(fixtures)('$file: builds exactly the expected Job', ({ input, expected }) => {
    expect(buildJob(input)).toStrictEqual(expected);
  });

  it.each(fixtures)('$file: the built Job is valid against the official batch/v1 Job schema', ({ input }) => {
    expect(() => new JobModel(buildJob(input) as never).validate()).not.toThrow();
  });
});

describe('buildJob: determinism and immutability', () => {
  it.each(fixtures)(
    '$file: same input twice, or with keys in another order, gives the same JSON',
    ({ input }) => {
      const first = JSON.stringify(buildJob(input));
      expect(JSON.stringify(buildJob(input))).toBe(first);
      expect(JSON.stringify(buildJob(reverseKeys(input)))).toBe(first);
      // keys are already sorted at every depth, so plain JSON.stringify is the stable form
      expect(stableJson(buildJob(input))).toBe(first);
    },
  );

  it.each(fixtures)('$file: never mutates its input and shares no object with it', ({ input }) => {
    const before = structuredClone(input);
    const frozen = deepFreeze(structuredClone(input));
    // a write to the frozen input, now or through a shared object later, throws in strict mode
    const job = buildJob(frozen);
    expect(frozen).toStrictEqual(before);
    expect(() => {
      job.spec!.template.spec.containers[0]!.image = 'changed';
      for (const item of Object.values(job.spec!.template.spec)) if (Array.isArray(item)) item.push('x');
      job.metadata.labels!['team'] = 'changed';
    }).not.toThrow();
    expect(job.spec!.template.metadata!.labels!['team']).not.toBe('changed');
  });
});

describe('buildJob: behaviour', () => {
  it('lets identity labels and annotations win over user ones with the same key', () => {
    const { input } = fixture('rich-block.yaml');
    const job = buildJob(input);
    for (const metadata of [job.metadata, job.spec!.template.metadata!]) {
      expect(metadata.labels).toMatchObject({
        'app.kubernetes.io/managed-by': 'k8s-executor',
        'k8s-executor/attempt': '2',
        team: 'ml',
      });
      expect(metadata.annotations).toMatchObject({
        owner: 'ml-platform@example.com',
        'k8s-executor/attempt': '2',
      });
    }
  });

  it('replaces command and args only when the caller gives them', () => {
    const { input } = fixture('rich-block.yaml');
    const container = (i: BuildJobInput) => buildJob(i).spec!.template.spec.containers[0]!;
    const withoutArgs = { ...input, args: undefined };
    expect(container(withoutArgs)).toMatchObject({
      command: ['python', '-m', 'train'],
      args: ['--epochs', '1'],
    });
    expect(container({ ...input, command: ['bash', '-c', 'true'], args: [] })).toMatchObject({
      command: ['bash', '-c', 'true'],
      args: [],
    });
  });

  it('defaults restartPolicy to Never and keeps OnFailure when the config asks for it', () => {
    expect(buildJob(fixture('minimal-block.yaml').input).spec!.template.spec.restartPolicy).toBe('Never');
    expect(buildJob(fixture('pipeline-run.yaml').input).spec!.template.spec.restartPolicy).toBe('OnFailure');
  });

  it('leaves selector and manualSelector to the API server', () => {
    for (const { input } of fixtures) {
      const spec = buildJob(input).spec!;
      expect(spec).not.toHaveProperty('selector');
      expect(spec).not.toHaveProperty('manualSelector');
    }
  });

  it('builds a Job that isJobOfRun recognises as its own run and no other', () => {
    const { input } = fixture('rich-block.yaml');
    const job = buildJob(input);
    expect(isJobOfRun(job, input.identity, input.clusterId, input.kind)).toBe(true);
    expect(isJobOfRun(job, { ...input.identity, attempt: 3 }, input.clusterId, input.kind)).toBe(false);
    expect(isJobOfRun(job, input.identity, 'staging', input.kind)).toBe(false);
  });

  it('builds a schema-valid Job from a name made by jobName and a bare config', () => {
    const identity = { pipelineUuid: 'p', pipelineRunId: '1', blockUuid: 'b', blockRunId: 'x'.repeat(90) };
    const job = buildJob({
      config: {
        namespace: 'default',
        jobNamePrefix: 'data-prep',
        container: { name: 'c', image: 'busybox' },
      },
      jobName: jobName({ clusterId: 'mage', prefix: 'data-prep', kind: 'block', runId: identity.blockRunId }),
      identity,
      clusterId: 'mage',
      kind: 'block',
    });
    expect(() => new JobModel(job as never).validate()).not.toThrow();
    expect(job.spec).toStrictEqual({
      template: {
        metadata: expect.any(Object),
        spec: { containers: [{ image: 'busybox', name: 'c' }], restartPolicy: 'Never' },
      },
    });
  });
});

describe('the batch/v1 schema check itself', () => {
  it('rejects a Job the API server would reject, so the validity tests above can fail', () => {
    const job = buildJob(fixture('minimal-block.yaml').input);
    const broken = structuredClone(job) as unknown as { spec: { backoffLimit: unknown } };
    broken.spec.backoffLimit = 'twice';
    expect(() => new JobModel(broken as never).validate()).toThrow(/backoffLimit/);
  });
});
