import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isK8sExecutorError } from '../../src/errors/base.js';
import { type JobNameInput, jobName, runIdPart } from '../../src/naming/job-name.js';

/** The 8-hex SHA-256 the names carry. */
const sha = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 8);

const DNS_1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DEFAULTS: JobNameInput = { clusterId: 'mage', prefix: 'data-prep', kind: 'block', runId: '42' };

describe('jobName: exact names', () => {
  it.each<[string, Partial<JobNameInput>, string]>([
    ['the built-in defaults', {}, 'mage-data-prep-block-42'],
    ['MAGE_CLUSTER_UUID=prod', { clusterId: 'prod' }, 'prod-data-prep-block-42'],
    ['a plain prefix', { prefix: 'etl' }, 'mage-etl-block-42'],
    ['attempt 1 (adds nothing)', { attempt: 1 }, 'mage-data-prep-block-42'],
    ['attempt 2', { attempt: 2 }, 'mage-data-prep-block-42-attempt-2'],
    ['a pipeline run', { kind: 'pipeline', runId: '7' }, 'mage-data-prep-pipeline-7'],
    [
      'a pipeline run with a trigger',
      { kind: 'pipeline', runId: '7', prefix: 'etl-{trigger_name}', triggerName: 'nightly_load' },
      'mage-etl-nightly-load-pipeline-7',
    ],
    [
      'a trigger with spaces and #',
      { prefix: 'etl-{trigger_name}', triggerName: 'Daily Run #1' },
      'mage-etl-daily-run-1-block-42',
    ],
    [
      'a trigger with odd characters at both ends',
      { prefix: 'etl-{trigger_name}', triggerName: '  --Über__Job!! ' },
      'mage-etl-ber-job-block-42',
    ],
    [
      'a trigger with dots and slashes',
      { prefix: '{trigger_name}', triggerName: 'a.b/c' },
      'mage-a-b-c-block-42',
    ],
    ['no trigger (a manual run)', { prefix: 'etl-{trigger_name}' }, 'mage-etl-manual-block-42'],
    [
      'a trigger with no letter or digit',
      { prefix: 'etl-{trigger_name}', triggerName: '###' },
      'mage-etl-manual-block-42',
    ],
    [
      '{trigger_name} twice',
      { prefix: '{trigger_name}-x-{trigger_name}', triggerName: 'T' },
      'mage-t-x-t-block-42',
    ],
    [
      'uppercase and underscores',
      { clusterId: 'Prod_EU', prefix: 'My_Prefix' },
      'prod-eu-my-prefix-block-42',
    ],
    ['hyphen runs in the prefix', { prefix: '--data--prep--' }, 'mage-data-prep-block-42'],
    ['an uppercase run id with an underscore', { runId: 'Run_42' }, 'mage-data-prep-block-run-42'],
    [
      'a UUID run id',
      { runId: '3F2504E0-4F89-11D3-9A0C-0305E82C3301' },
      'mage-data-prep-block-3f2504e0-4f89-11d3-9a0c-0305e82c3301',
    ],
    ['empty cluster and prefix', { clusterId: '', prefix: '' }, 'block-42'],
    ['exactly 63 characters: kept as is', { prefix: 'p'.repeat(49) }, `mage-${'p'.repeat(49)}-block-42`],
    ['64 characters: shortened', { prefix: 'p'.repeat(50) }, `mage-${'p'.repeat(40)}-e0970ee8-block-42`],
    ['a 200-character prefix', { prefix: 'x'.repeat(200) }, `mage-${'x'.repeat(40)}-6821e130-block-42`],
    [
      'a long prefix with attempt 12',
      { prefix: 'p'.repeat(40), runId: '1234567890', attempt: 12 },
      `mage-${'p'.repeat(21)}-704f0dff-block-1234567890-attempt-12`,
    ],
    ['a 70-character id', { runId: 'r'.repeat(70) }, `block-${'r'.repeat(48)}-14372288`],
    [
      'a 70-character id, attempt 3',
      { runId: 'r'.repeat(70), attempt: 3 },
      `block-${'r'.repeat(38)}-5c372574-attempt-3`,
    ],
  ])('%s', (_case, input, expected) => {
    const name = jobName({ ...DEFAULTS, ...input });
    expect(name).toBe(expected);
    expect(name).toMatch(DNS_1123_LABEL);
    expect(name.length).toBeLessThanOrEqual(63);
  });

  it.each([
    [
      'a block uuid with an underscore (the common case: no hash)',
      '7-load_data',
      'mage-data-prep-block-7-load-data',
    ],
    ['a dot', '7-A.B', `mage-data-prep-block-7-a-b-${sha('7-A.B')}`],
    [
      'a time zone +01:00',
      '2024-05-01T10:00+01:00',
      `mage-data-prep-block-2024-05-01t10-00-01-00-${sha('2024-05-01T10:00+01:00')}`,
    ],
    [
      'a time zone -01:00',
      '2024-05-01T10:00-01:00',
      `mage-data-prep-block-2024-05-01t10-00-01-00-${sha('2024-05-01T10:00-01:00')}`,
    ],
    ['a double underscore', '7-a__b', `mage-data-prep-block-7-a-b-${sha('7-a__b')}`],
    ['a leading underscore', '_42', `mage-data-prep-block-42-${sha('_42')}`],
  ])(
    'a run id that loses more than case and _→- gets the hash of the id as given: %s',
    (_case, runId, expected) => {
      expect(jobName({ ...DEFAULTS, runId })).toBe(expected);
      expect(runIdPart(runId)).toBe(expected.slice('mage-data-prep-block-'.length));
    },
  );

  it('keeps the -block-<id>-<hash>-attempt-<n> tail readable when shortened', () => {
    const name = jobName({ ...DEFAULTS, prefix: 'p'.repeat(40), runId: '7-A.B', attempt: 2 });
    expect(name).toMatch(new RegExp(`^mage-p+-[0-9a-f]{8}-block-7-a-b-${sha('7-A.B')}-attempt-2$`));
    expect(name.length).toBe(63);
  });

  it('hashes the full normalized name: the first 8 hex characters of its SHA-256', () => {
    const full = `mage-${'x'.repeat(200)}-block-42`;
    const hash = createHash('sha256').update(full).digest('hex').slice(0, 8);
    expect(jobName({ ...DEFAULTS, prefix: 'X'.repeat(200) })).toBe(`mage-${'x'.repeat(40)}-${hash}-block-42`);
  });

  it.each<[string, Partial<JobNameInput>]>([
    ['an empty run id', { runId: '' }],
    ['a run id with no letter or digit', { runId: '_/_' }],
    ['attempt 0', { attempt: 0 }],
    ['a fractional attempt', { attempt: 1.5 }],
    ['a NaN attempt', { attempt: Number.NaN }],
  ])('throws CONFIG_INVALID for %s', (_case, input) => {
    let error: unknown;
    try {
      jobName({ ...DEFAULTS, ...input });
    } catch (e) {
      error = e;
    }
    expect(isK8sExecutorError(error) && error.code).toBe('CONFIG_INVALID');
    expect((error as Error).message).toMatch(/^Cannot name the Job: .+ Pass /);
  });
});

/** A run id as orchestrators make them: already lowercase alphanumeric words joined by single hyphens. */
const cleanId = (maxLength: number) =>
  fc.stringMatching(/^[a-z0-9]+(-[a-z0-9]+)*$/).filter((id) => id.length <= maxLength);
const anyText = fc.string({ unit: 'grapheme', maxLength: 120 });
/** A run id as people and tools write them: letters of both cases, digits, and punctuation. */
const messyId = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_.:+ -]{0,70}$/);
const anyInput = fc.record(
  {
    clusterId: anyText,
    prefix: fc.oneof(
      anyText,
      anyText.map((t) => `${t}{trigger_name}`),
    ),
    kind: fc.constantFrom('block' as const, 'pipeline' as const),
    runId: fc.oneof(
      cleanId(100),
      anyText.filter((t) => /[a-z0-9]/i.test(t)),
    ),
    attempt: fc.integer({ min: 1, max: 10_000 }),
    triggerName: anyText,
  },
  { requiredKeys: ['clusterId', 'prefix', 'kind', 'runId'] },
);

/** The normalization the contract states for each part, to pick inputs that must give different names. */
const normalized = (part: string) =>
  part
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');

describe('jobName: properties', () => {
  it('always gives a DNS-1123 label of at most 63 characters, with no hyphen runs', () => {
    fc.assert(
      fc.property(anyInput, (input) => {
        const name = jobName(input);
        expect(name).toMatch(DNS_1123_LABEL);
        expect(name.length).toBeLessThanOrEqual(63);
        expect(name).not.toContain('--');
      }),
    );
  });

  it('is deterministic', () => {
    fc.assert(
      fc.property(anyInput, (input) => {
        expect(jobName(structuredClone(input))).toBe(jobName(input));
      }),
    );
  });

  it('gives different names to different ids or attempts under the same cluster and prefix', () => {
    fc.assert(
      fc.property(
        anyText,
        anyText,
        cleanId(100),
        cleanId(100),
        fc.nat(5),
        fc.nat(5),
        (c, p, id1, id2, a1, a2) => {
          fc.pre(id1 !== id2 || a1 !== a2);
          // An id that itself ends in `-attempt-<n>` is the one documented ambiguity.
          fc.pre(!/-attempt-\d+$/.test(id1) && !/-attempt-\d+$/.test(id2));
          const first = jobName({ clusterId: c, prefix: p, kind: 'block', runId: id1, attempt: a1 + 1 });
          const second = jobName({ clusterId: c, prefix: p, kind: 'block', runId: id2, attempt: a2 + 1 });
          expect(first).not.toBe(second);
        },
      ),
    );
  });

  it('gives different names to run ids that differ in more than case and _/-', () => {
    const fold = (id: string) => id.toLowerCase().replaceAll('_', '-');
    fc.assert(
      fc.property(messyId, messyId, (id1, id2) => {
        fc.pre(fold(id1) !== fold(id2));
        fc.pre(!/-attempt-\d+$/.test(id1) && !/-attempt-\d+$/.test(id2));
        expect(jobName({ ...DEFAULTS, runId: id1 })).not.toBe(jobName({ ...DEFAULTS, runId: id2 }));
      }),
    );
  });

  it('gives different names to prefixes that normalize differently', () => {
    fc.assert(
      fc.property(anyText, anyText, anyText, cleanId(60), (cluster, p1, p2, id) => {
        fc.pre(normalized(p1) !== normalized(p2));
        expect(jobName({ ...DEFAULTS, clusterId: cluster, prefix: p1, runId: id })).not.toBe(
          jobName({ ...DEFAULTS, clusterId: cluster, prefix: p2, runId: id }),
        );
      }),
    );
  });

  it('ends with -<kind>-<id>[-attempt-<n>] whenever that fits with the hash (≤ 54 characters)', () => {
    fc.assert(
      fc.property(anyInput, cleanId(45), (input, id) => {
        const attempt = input.attempt ?? 1;
        const tail = `${input.kind}-${id}${attempt >= 2 ? `-attempt-${attempt}` : ''}`;
        fc.pre(tail.length <= 54);
        const name = jobName({ ...input, clusterId: `c${input.clusterId}`, runId: id });
        expect(name.endsWith(`-${tail}`)).toBe(true);
      }),
    );
  });

  it('keeps the kind, the start of a too-long id and the attempt suffix', () => {
    fc.assert(
      fc.property(anyInput, fc.stringMatching(/^[a-z0-9]{60,120}$/), (input, id) => {
        const attempt = input.attempt ?? 1;
        const suffix = attempt >= 2 ? `-attempt-${attempt}` : '';
        const name = jobName({ ...input, runId: id });
        expect(name).toMatch(new RegExp(`^${input.kind}-${id.slice(0, 30)}[a-z0-9]*-[0-9a-f]{8}${suffix}$`));
      }),
    );
  });
});
