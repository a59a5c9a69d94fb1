import type { AccessReview, ResourceAttributes } from '../ports/cluster-inspector.js';
import { notChecked, type Read } from './reads.js';
import type { Finding } from './types.js';

/** One verb the executor uses on one resource: a row of the minimal Role of docs/rbac.md. */
export interface AccessNeed {
  /** The API group, `""` for core. */
  group: string;
  /** The resource, with its subresource: `jobs`, `pods/log`. */
  resource: string;
  /** The verb. */
  verb: string;
  /** Where it is needed: every namespace Jobs run in, or only the namespace of the server pod. */
  scope: 'job-namespace' | 'server-pod-namespace';
  /** Without it, does a run fail (`fail`) or go on degraded (`warn`)? */
  withoutIt: 'fail' | 'warn';
  /** What a run does without it (docs/rbac.md, "What a missing verb looks like"). */
  effect: string;
}

/**
 * Every verb the executor needs, in one place: the minimal Role of docs/rbac.md says the same (a test
 * compares them), and `preflight` asks a SelfSubjectAccessReview for each.
 */
export const EXECUTOR_ACCESS: readonly AccessNeed[] = [
  {
    group: 'batch',
    resource: 'jobs',
    verb: 'create',
    scope: 'job-namespace',
    withoutIt: 'fail',
    effect: 'no Job can be created: the block fails with API_FORBIDDEN before anything runs',
  },
  {
    group: 'batch',
    resource: 'jobs',
    verb: 'get',
    scope: 'job-namespace',
    withoutIt: 'warn',
    effect: 'a resumed run cannot adopt the Jobs that already exist (a 409 cannot be read back) and fails',
  },
  {
    group: 'batch',
    resource: 'jobs',
    verb: 'list',
    scope: 'job-namespace',
    withoutIt: 'fail',
    effect:
      'the shared watch cannot see the namespace: the block fails with API_FORBIDDEN and its Job is deleted',
  },
  {
    group: 'batch',
    resource: 'jobs',
    verb: 'watch',
    scope: 'job-namespace',
    withoutIt: 'warn',
    effect: 'the executor falls back to listing every 10 s: blocks still finish, later',
  },
  {
    group: 'batch',
    resource: 'jobs',
    verb: 'delete',
    scope: 'job-namespace',
    withoutIt: 'warn',
    effect: 'Jobs are not cleaned up (result.cleanupError) and a cancel cannot stop them',
  },
  {
    group: '',
    resource: 'pods',
    verb: 'get',
    scope: 'server-pod-namespace',
    withoutIt: 'fail',
    effect: 'the server pod cannot be read for inheritance: the run fails with API_FORBIDDEN',
  },
  {
    group: '',
    resource: 'pods',
    verb: 'list',
    scope: 'job-namespace',
    withoutIt: 'fail',
    effect:
      'the shared pod watch cannot see the namespace: the block fails with API_FORBIDDEN and its Job is deleted',
  },
  {
    group: '',
    resource: 'pods',
    verb: 'watch',
    scope: 'job-namespace',
    withoutIt: 'warn',
    effect: 'pod failure reasons come from listing every 10 s instead of a watch: later',
  },
  {
    group: '',
    resource: 'pods/log',
    verb: 'get',
    scope: 'job-namespace',
    withoutIt: 'warn',
    effect: 'no log lines are streamed or kept in the result',
  },
  {
    group: '',
    resource: 'events',
    verb: 'list',
    scope: 'job-namespace',
    withoutIt: 'warn',
    effect: 'no warning events are kept in the result',
  },
];

/** The SelfSubjectAccessReview question for one need in one namespace. */
export function accessAttributes(need: AccessNeed, namespace: string): ResourceAttributes {
  const [resource = need.resource, subresource] = need.resource.split('/');
  return {
    namespace,
    verb: need.verb,
    group: need.group,
    resource,
    ...(subresource ? { subresource } : {}),
  };
}

/** The Role rule that grants a need, as docs/rbac.md writes rules. */
export function roleRule(need: Pick<AccessNeed, 'group' | 'resource' | 'verb'>): string {
  return `{apiGroups: ["${need.group}"], resources: ["${need.resource}"], verbs: ["${need.verb}"]}`;
}

/** One SelfSubjectAccessReview asked for a need, in a namespace. */
export interface NeedReview {
  /** The need asked about. */
  need: AccessNeed;
  /** The namespace asked about. */
  namespace: string;
  /** The answer, or why there is none. */
  review: Read<AccessReview>;
}

/**
 * The `rbac` findings: one per verb the identity lacks (`fail` or `warn` by what a run does without it,
 * with that effect and the Role rule that grants it), or one `ok` when it has them all; reviews that
 * could not be asked give one `not-checked` naming them.
 */
export function checkAccess(reviews: readonly NeedReview[]): Finding[] {
  const findings: Finding[] = [];
  const unasked = reviews.filter((r) => !r.review.ok);
  const first = unasked[0]?.review;
  if (first && !first.ok)
    findings.push(
      notChecked(
        'rbac',
        `the executor's access (${unasked.map((r) => `${r.need.verb} ${r.need.resource} in "${r.namespace}"`).join(', ')})`,
        first.error,
      ),
    );
  for (const { need, namespace, review } of reviews) {
    if (!review.ok || review.value.allowed) continue;
    const why = review.value.evaluationError ? ` (the authorizer said: ${review.value.evaluationError})` : '';
    findings.push({
      check: 'rbac',
      status: need.withoutIt,
      message: `the current identity may not ${need.verb} ${need.resource}${need.group ? ` (group ${need.group})` : ''} in namespace "${namespace}"${why}: ${need.effect}.`,
      fix: `grant it with a Role rule ${roleRule(need)} in namespace "${namespace}" (docs/rbac.md).`,
    });
  }
  if (findings.length === 0) {
    const namespaces = [...new Set(reviews.map((r) => `"${r.namespace}"`))].join(', ');
    findings.push({
      check: 'rbac',
      status: 'ok',
      message: `the current identity may do all ${reviews.length} things the executor does (namespace ${namespaces}).`,
    });
  }
  return findings;
}
