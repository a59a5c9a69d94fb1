import { describe, expect, it } from 'vitest';
import type { LimitRange, ResourceQuota } from '../../src/ports/cluster-inspector.js';
import { checkLimitRanges, withLimitRangeDefaults } from '../../src/preflight/limit-range.js';
import { podViewOf } from '../../src/preflight/pod-spec.js';
import { formatAmount } from '../../src/preflight/quantity.js';
import { checkQuotas, quotaCharge } from '../../src/preflight/quota.js';
import type { JsonObject } from '../../src/types/kube.js';
import { container, jobWith, quota } from './fixtures.js';

const RESOURCES = { requests: { cpu: '500m', memory: '1Gi' }, limits: { cpu: '1', memory: '2Gi' } };

function limitRange(name: string, limits: NonNullable<LimitRange['spec']>['limits']): LimitRange {
  return { metadata: { name, namespace: 'ml' }, spec: { limits } };
}

/** The quota findings of a pod spec, LimitRange defaults applied first (as admission does). */
function quotas(spec: JsonObject, list: ResourceQuota[], ranges: LimitRange[] = []) {
  const pod = podViewOf(jobWith(spec));
  const containers = withLimitRangeDefaults(pod.containers, ranges);
  return checkQuotas('ml', pod, containers, quotaCharge(containers, pod.overhead), list);
}

/** The limit-range findings of a pod spec. */
function limits(spec: JsonObject, ranges: LimitRange[]) {
  const pod = podViewOf(jobWith(spec));
  return checkLimitRanges('ml', withLimitRangeDefaults(pod.containers, ranges), pod.overhead, ranges);
}

const main = (resources = RESOURCES) => ({ containers: [container('main', resources)] });

describe('ResourceQuota headroom', () => {
  it('charges the pod (requests and limits under both spellings), one pod and one Job', () => {
    const pod = podViewOf(jobWith(main()));
    const { usage, bestEffort } = quotaCharge(pod.containers, pod.overhead);
    expect(Object.fromEntries([...usage].map(([k, v]) => [k, formatAmount(v)]))).toEqual({
      pods: '1',
      'count/pods': '1',
      'count/jobs.batch': '1',
      cpu: '500m',
      'requests.cpu': '500m',
      memory: '1Gi',
      'requests.memory': '1Gi',
      'limits.cpu': '1',
      'limits.memory': '2Gi',
    });
    expect(bestEffort).toBe(false);
  });

  it('fails a quota the pod can never fit, naming the resource, the need and the hard limit', () => {
    const [finding] = quotas(main(), [
      quota('small', { 'limits.memory': '512Mi', pods: '10' }, { 'limits.memory': '0', pods: '0' }),
    ]);
    expect(finding).toMatchObject({ check: 'quota', status: 'fail' });
    expect(finding?.message).toBe(
      'ResourceQuota "small" is too small for this block: limits.memory needs 2Gi, the quota allows 512Mi in all. The Job controller could never create the pod (exceeded quota) and the block fails with POD_CREATE_FAILED.',
    );
    expect(finding?.fix).toMatch(/kubectl describe resourcequota small -n ml/);
  });

  it('warns when only the headroom (hard - used) is too small today', () => {
    const [finding] = quotas(main(), [quota('team', { 'requests.cpu': '2' }, { 'requests.cpu': '1800m' })]);
    expect(finding?.status).toBe('warn');
    expect(finding?.message).toMatch(
      /^ResourceQuota "team" has too little left right now: requests.cpu needs 500m, 200m of 2 is left\./,
    );
  });

  it('passes a quota with room, and one whose usage is not computed yet against hard alone', () => {
    expect(
      quotas(main(), [
        quota(
          'team',
          { 'requests.cpu': '2', 'count/jobs.batch': '5' },
          { 'requests.cpu': '1', 'count/jobs.batch': '4' },
        ),
      ]),
    ).toEqual([
      {
        check: 'quota',
        status: 'ok',
        message: 'fits ResourceQuota "team": count/jobs.batch 1 of 1 left, requests.cpu 500m of 1 left.',
      },
    ]);
    expect(quotas(main(), [quota('fresh', { 'count/jobs.batch': '0' })])[0]?.status).toBe('fail');
    expect(quotas(main(), [quota('fresh', { pods: '3' })])[0]?.message).toMatch(/usage is not computed yet/);
  });

  it('fails when the quota tracks cpu or memory and a container sets none, unless a LimitRange default does', () => {
    const bare = { containers: [container('main')], initContainers: [container('setup', RESOURCES)] };
    const [finding] = quotas(bare, [
      quota(
        'q',
        { 'limits.memory': '8Gi', 'requests.cpu': '4' },
        { 'limits.memory': '0', 'requests.cpu': '0' },
      ),
    ]);
    expect(finding?.status).toBe('fail');
    expect(finding?.message).toMatch(
      /^ResourceQuota "q" tracks limits.memory, requests.cpu, so every container must set them: limits.memory is not set by container "main"; requests.cpu is not set by container "main"\./,
    );
    const defaults = limitRange('defaults', [
      {
        type: 'Container',
        default: { memory: '1Gi', cpu: '1' },
        defaultRequest: { memory: '512Mi', cpu: '250m' },
      },
    ]);
    expect(
      quotas(
        bare,
        [
          quota(
            'q',
            { 'limits.memory': '8Gi', 'requests.cpu': '4' },
            { 'limits.memory': '0', 'requests.cpu': '0' },
          ),
        ],
        [defaults],
      )[0]?.status,
    ).toBe('ok');
  });

  it('applies a quota only to the pods of its scopes', () => {
    const terminating = quota('t', { pods: '0' }, { pods: '0' }, { scopes: ['Terminating'] });
    const bestEffort = quota('be', { pods: '0' }, { pods: '0' }, { scopes: ['BestEffort'] });
    const high = quota(
      'high',
      { pods: '0' },
      { pods: '0' },
      {
        scopeSelector: {
          matchExpressions: [{ scopeName: 'PriorityClass', operator: 'In', values: ['high'] }],
        },
      },
    );
    expect(quotas(main(), [terminating, bestEffort, high])).toEqual([
      {
        check: 'quota',
        status: 'ok',
        message: 'no ResourceQuota of namespace "ml" applies to the pod (by their scopes).',
      },
    ]);
    expect(quotas({ ...main(), activeDeadlineSeconds: 60 }, [terminating])[0]?.status).toBe('fail');
    expect(quotas({ containers: [container('main')] }, [bestEffort])[0]?.status).toBe('fail');
    expect(quotas({ ...main(), priorityClassName: 'high' }, [high])[0]?.status).toBe('fail');
    // A scoped quota tracks pods only: it never counts the Job.
    const scopedJobs = quota(
      'sj',
      { 'count/jobs.batch': '0' },
      { 'count/jobs.batch': '0' },
      { scopes: ['NotTerminating'] },
    );
    expect(quotas(main(), [scopedJobs])[0]?.status).toBe('ok');
  });

  it('says so when the namespace has no quota', () => {
    expect(quotas(main(), [])).toEqual([
      { check: 'quota', status: 'ok', message: 'no ResourceQuota in namespace "ml".' },
    ]);
  });
});

describe('LimitRange bounds', () => {
  it('fills in defaults for what a container does not set, and nothing else', () => {
    const pod = podViewOf(jobWith({ containers: [container('main', { limits: { cpu: '2' } })] }));
    const [defaulted] = withLimitRangeDefaults(pod.containers, [
      limitRange('d', [
        {
          type: 'Container',
          default: { cpu: '1', memory: '1Gi' },
          defaultRequest: { cpu: '100m', memory: '256Mi' },
        },
      ]),
    ]);
    expect(Object.fromEntries(defaulted!.limits)).toEqual({ cpu: 2, memory: 2 ** 30 });
    // The request of cpu is its limit (API defaulting), before any LimitRange default.
    expect(Object.fromEntries(defaulted!.requests)).toEqual({ cpu: 2, memory: 256 * 2 ** 20 });
  });

  it("reports min, max and ratio violations in the LimitRanger's own words, per container and per pod", () => {
    const range = limitRange('bounds', [
      { type: 'Container', min: { cpu: '100m' }, max: { memory: '1Gi' }, maxLimitRequestRatio: { cpu: '1' } },
      { type: 'Pod', max: { cpu: '800m' } },
    ]);
    const findings = limits(main(), [range]);
    expect(findings.map((f) => f.status)).toEqual(['fail', 'fail', 'fail']);
    expect(findings.map((f) => f.message.split(': the Job controller')[0])).toEqual([
      'LimitRange "bounds": maximum memory usage per Container is 1Gi, but limit is 2Gi (container "main")',
      'LimitRange "bounds": cpu max limit to request ratio per Container is 1, but provided ratio is 2 (container "main")',
      'LimitRange "bounds": maximum cpu usage per Pod is 800m, but limit is 1',
    ]);
    expect(
      limits({ containers: [container('main')] }, [
        limitRange('m', [{ type: 'Container', min: { memory: '64Mi' } }]),
      ])[0]?.message,
    ).toMatch(/minimum memory usage per Container is 64Mi, but no request is specified/);
  });

  it('passes a pod within every range, and a namespace without one', () => {
    expect(
      limits(main(), [
        limitRange('wide', [{ type: 'Container', max: { cpu: '4', memory: '8Gi' }, min: { cpu: '10m' } }]),
      ]),
    ).toEqual([
      { check: 'limit-range', status: 'ok', message: 'within every LimitRange of namespace "ml" ("wide").' },
    ]);
    expect(limits(main(), [])[0]?.message).toBe('no LimitRange in namespace "ml".');
  });
});
