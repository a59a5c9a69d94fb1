import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  IDENTITY_KEYS,
  identityAnnotations,
  identityLabels,
  isJobOfRun,
  MANAGED_BY_LABEL,
  managedSelector,
  toLabelValue,
} from '../../src/naming/labels.js';
import type { Job } from '../../src/types/kube.js';
import type { RunIdentity } from '../../src/types/run.js';

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
/** A qualified label key: optional DNS-subdomain prefix and `/`, then a name of at most 63 characters. */
const LABEL_KEY =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;

const BLOCK_RUN: RunIdentity = {
  pipelineUuid: 'etl',
  pipelineRunId: '7',
  blockUuid: 'load_orders',
  blockRunId: '42',
  triggerName: 'Daily Run #1',
};

/** A Job as the API server would return it, carrying the given labels and annotations. */
function jobWith(labels: Record<string, string>, annotations?: Record<string, string>): Job {
  return {
    metadata: { name: 'mage-data-prep-block-42', labels, ...(annotations && { annotations }) },
    spec: { template: { spec: { containers: [{ name: 'c' }] } } },
  };
}

const ourJob = (identity: RunIdentity, cluster = 'mage', kind: 'block' | 'pipeline' = 'block') =>
  jobWith(identityLabels(identity, cluster, kind), identityAnnotations(identity, cluster));

describe('toLabelValue', () => {
  it.each([
    ['42', '42'],
    ['load_orders', 'load_orders'],
    ['Daily Run #1', 'Daily-Run-1'],
    ['My Pipeline/v2', 'My-Pipeline-v2'],
    ['__x__', 'x'],
    ['.hidden.', 'hidden'],
    ['', ''],
    ['###', ''],
    ['a'.repeat(63), 'a'.repeat(63)],
    ['a'.repeat(80), `${'a'.repeat(54)}-0f45e858`],
    [`${'a'.repeat(53)}_${'b'.repeat(20)}`, `${'a'.repeat(53)}-4fa2c8ef`],
  ])('%j → %j', (input, expected) => {
    expect(toLabelValue(input)).toBe(expected);
  });

  it('always gives a valid label value of at most 63 characters', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 200 }), (value) => {
        const label = toLabelValue(value);
        expect(label).toMatch(LABEL_VALUE);
        expect(label.length).toBeLessThanOrEqual(63);
      }),
    );
  });

  it('leaves valid label values untouched', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/), (value) => {
        expect(toLabelValue(value)).toBe(value);
      }),
    );
  });

  it('keeps distinct long values distinct through the hash', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z]{64,100}$/), fc.stringMatching(/^[a-z]{64,100}$/), (a, b) => {
        fc.pre(a !== b);
        expect(toLabelValue(a)).not.toBe(toLabelValue(b));
      }),
    );
  });
});

describe('identity labels and annotations', () => {
  it('labels a block run with every identity key, sanitized', () => {
    expect(identityLabels(BLOCK_RUN, 'Prod EU', 'block')).toStrictEqual({
      'app.kubernetes.io/managed-by': 'k8s-executor',
      'k8s-executor/kind': 'block',
      'k8s-executor/cluster': 'Prod-EU',
      'k8s-executor/pipeline': 'etl',
      'k8s-executor/pipeline-run-id': '7',
      'k8s-executor/block': 'load_orders',
      'k8s-executor/block-run-id': '42',
      'k8s-executor/attempt': '1',
      'k8s-executor/trigger': 'Daily-Run-1',
    });
  });

  it('annotates with the full values, and no kind', () => {
    expect(identityAnnotations({ ...BLOCK_RUN, attempt: 3 }, 'Prod EU')).toStrictEqual({
      'k8s-executor/cluster': 'Prod EU',
      'k8s-executor/pipeline': 'etl',
      'k8s-executor/pipeline-run-id': '7',
      'k8s-executor/block': 'load_orders',
      'k8s-executor/block-run-id': '42',
      'k8s-executor/attempt': '3',
      'k8s-executor/trigger': 'Daily Run #1',
    });
  });

  it('has no block keys for a whole-pipeline run', () => {
    const labels = identityLabels({ pipelineUuid: 'etl', pipelineRunId: '7' }, 'mage', 'pipeline');
    expect(Object.keys(labels).sort()).toEqual([
      MANAGED_BY_LABEL,
      IDENTITY_KEYS.attempt,
      IDENTITY_KEYS.cluster,
      IDENTITY_KEYS.kind,
      IDENTITY_KEYS.pipeline,
      IDENTITY_KEYS.pipelineRunId,
    ]);
  });

  it('always gives valid label keys and values', () => {
    const text = fc.string({ unit: 'grapheme', maxLength: 100 });
    const identity = fc.record(
      {
        pipelineUuid: text,
        pipelineRunId: text,
        blockUuid: text,
        blockRunId: text,
        triggerName: text,
        attempt: fc.integer({ min: 1, max: 1000 }),
      },
      { requiredKeys: ['pipelineUuid', 'pipelineRunId'] },
    );
    fc.assert(
      fc.property(
        identity,
        text,
        fc.constantFrom('block' as const, 'pipeline' as const),
        (id, cluster, kind) => {
          for (const [key, value] of Object.entries(identityLabels(id, cluster, kind))) {
            expect(key).toMatch(LABEL_KEY);
            expect(value).toMatch(LABEL_VALUE);
            expect(value.length).toBeLessThanOrEqual(63);
          }
        },
      ),
    );
  });
});

describe('managedSelector', () => {
  it('selects every managed Job, or one cluster’s', () => {
    expect(managedSelector()).toBe('app.kubernetes.io/managed-by=k8s-executor');
    expect(managedSelector('Prod EU')).toBe(
      'app.kubernetes.io/managed-by=k8s-executor,k8s-executor/cluster=Prod-EU',
    );
  });
});

describe('isJobOfRun', () => {
  it('accepts the Job of exactly this run', () => {
    expect(isJobOfRun(ourJob(BLOCK_RUN), BLOCK_RUN, 'mage', 'block')).toBe(true);
    expect(isJobOfRun(ourJob(BLOCK_RUN), { ...BLOCK_RUN, attempt: 1 }, 'mage', 'block')).toBe(true);
    const pipelineRun = { pipelineUuid: 'etl', pipelineRunId: '7' };
    expect(isJobOfRun(ourJob(pipelineRun, 'mage', 'pipeline'), pipelineRun, 'mage', 'pipeline')).toBe(true);
  });

  it('ignores labels that do not single out the run (trigger, block and pipeline names)', () => {
    const job = ourJob({ ...BLOCK_RUN, triggerName: 'other', blockUuid: 'renamed' });
    expect(isJobOfRun(job, BLOCK_RUN, 'mage', 'block')).toBe(true);
  });

  it.each<[string, Job]>([
    ['a foreign Job with the same name and no labels', jobWith({})],
    [
      'a Job with our identity labels but another manager',
      jobWith({ ...identityLabels(BLOCK_RUN, 'mage', 'block'), [MANAGED_BY_LABEL]: 'helm' }),
    ],
    ['another attempt', ourJob({ ...BLOCK_RUN, attempt: 2 })],
    ['another block run', ourJob({ ...BLOCK_RUN, blockRunId: '43' })],
    ['another pipeline run', ourJob({ ...BLOCK_RUN, pipelineRunId: '8' })],
    ['another cluster', ourJob(BLOCK_RUN, 'staging')],
    ['the other kind', ourJob(BLOCK_RUN, 'mage', 'pipeline')],
    [
      'a run whose ids sanitize to the same labels (annotations tell them apart)',
      ourJob({ ...BLOCK_RUN, blockRunId: '42#' }),
    ],
  ])('rejects %s', (_case, job) => {
    expect(isJobOfRun(job, BLOCK_RUN, 'mage', 'block')).toBe(false);
  });

  it('rejects a block run’s Job for the pipeline run of the same ids', () => {
    const pipelineRun = { pipelineUuid: 'etl', pipelineRunId: '7' };
    const blockJobLabels = identityLabels(BLOCK_RUN, 'mage', 'block');
    const job = jobWith({ ...blockJobLabels, [IDENTITY_KEYS.kind]: 'pipeline' });
    expect(isJobOfRun(job, pipelineRun, 'mage', 'pipeline')).toBe(false);
  });

  it('falls back to labels when the Job has no identity annotations', () => {
    const labelsOnly = jobWith(identityLabels(BLOCK_RUN, 'mage', 'block'));
    expect(isJobOfRun(labelsOnly, BLOCK_RUN, 'mage', 'block')).toBe(true);
    expect(isJobOfRun(labelsOnly, { ...BLOCK_RUN, blockRunId: '43' }, 'mage', 'block')).toBe(false);
  });
});
