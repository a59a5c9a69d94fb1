import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import {
  accessAttributes,
  checkAccess,
  EXECUTOR_ACCESS,
  type NeedReview,
} from '../../src/preflight/executor-access.js';
import { readFailed, readOk } from '../../src/preflight/reads.js';
import { forbidden } from './fixtures.js';

const DOC = readFileSync(new URL('../../docs/rbac.md', import.meta.url), 'utf8');

/** `group resource verb` for every verb of the list, sorted. */
const triples = (list: readonly { group: string; resource: string; verb: string }[]) =>
  list.map((n) => `${n.group || 'core'} ${n.resource} ${n.verb}`).sort();

describe('the verbs the executor needs, in one place', () => {
  it('are exactly the rules of the Role in docs/rbac.md ("Ready to apply")', () => {
    const section = DOC.slice(DOC.indexOf('## Ready to apply'));
    const yaml = /```yaml\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
    const role = parseAllDocuments(yaml)
      .map(
        (d) =>
          d.toJS() as {
            kind: string;
            rules?: { apiGroups: string[]; resources: string[]; verbs: string[] }[];
          },
      )
      .find((m) => m.kind === 'Role');
    const fromDoc = (role?.rules ?? []).flatMap((rule) =>
      rule.apiGroups.flatMap((group) =>
        rule.resources.flatMap((resource) => rule.verbs.map((verb) => ({ group, resource, verb }))),
      ),
    );
    expect(fromDoc.length).toBeGreaterThan(0);
    expect(triples(EXECUTOR_ACCESS)).toEqual(triples(fromDoc));
  });

  it('are exactly the rows of the table in docs/rbac.md ("The minimal Role")', () => {
    const section = DOC.slice(DOC.indexOf('## The minimal Role'), DOC.indexOf('## Ready to apply'));
    const rows = [...section.matchAll(/^\| `(.*?)`(?: \(core\))? \| `(.*?)` \| (.*?) \|/gm)].flatMap(
      ([, group, resource, verbs]) =>
        [...verbs!.matchAll(/`(\w+)`/g)].map(([, verb]) => ({
          group: group === '""' ? '' : group!,
          resource: resource!,
          verb: verb!,
        })),
    );
    expect(triples(EXECUTOR_ACCESS)).toEqual(triples(rows));
  });

  it('asks a subresource as the API wants it', () => {
    const log = EXECUTOR_ACCESS.find((n) => n.resource === 'pods/log')!;
    expect(accessAttributes(log, 'ml')).toEqual({
      namespace: 'ml',
      verb: 'get',
      group: '',
      resource: 'pods',
      subresource: 'log',
    });
  });
});

describe('the rbac check', () => {
  const review = (allowed: (verb: string, resource: string) => boolean): NeedReview[] =>
    EXECUTOR_ACCESS.filter((n) => n.scope === 'job-namespace').map((need) => ({
      need,
      namespace: 'ml',
      review: readOk({ allowed: allowed(need.verb, need.resource) }),
    }));

  it('passes when every verb is allowed', () => {
    expect(checkAccess(review(() => true))).toEqual([
      {
        check: 'rbac',
        status: 'ok',
        message: 'the current identity may do all 9 things the executor does (namespace "ml").',
      },
    ]);
  });

  it('names each missing verb with what a run does without it and the rule that grants it', () => {
    const findings = checkAccess(
      review((verb, resource) => !(verb === 'create' && resource === 'jobs') && resource !== 'pods/log'),
    );
    expect(findings).toEqual([
      {
        check: 'rbac',
        status: 'fail',
        message:
          'the current identity may not create jobs (group batch) in namespace "ml": no Job can be created: the block fails with API_FORBIDDEN before anything runs.',
        fix: 'grant it with a Role rule {apiGroups: ["batch"], resources: ["jobs"], verbs: ["create"]} in namespace "ml" (docs/rbac.md).',
      },
      {
        check: 'rbac',
        status: 'warn',
        message:
          'the current identity may not get pods/log in namespace "ml": no log lines are streamed or kept in the result.',
        fix: 'grant it with a Role rule {apiGroups: [""], resources: ["pods/log"], verbs: ["get"]} in namespace "ml" (docs/rbac.md).',
      },
    ]);
  });

  it('is not checked when the reviews cannot be asked', () => {
    const op = { verb: 'create', resource: 'selfsubjectaccessreviews', group: 'authorization.k8s.io' };
    const reviews = EXECUTOR_ACCESS.slice(0, 2).map((need) => ({
      need,
      namespace: 'ml',
      review: readFailed<never>(forbidden(op)),
    }));
    expect(checkAccess(reviews)).toEqual([
      {
        check: 'rbac',
        status: 'not-checked',
        message:
          'the executor\'s access (create jobs in "ml", get jobs in "ml"): not checked: needs create on selfsubjectaccessreviews.authorization.k8s.io (cluster-wide).',
        fix: expect.stringMatching(/docs\/preflight.md/),
      },
    ]);
  });
});
