import { describe, expect, it } from 'vitest';
import type { KubeNode } from '../../src/ports/cluster-inspector.js';
import {
  describeTerm,
  type NodeRequirement,
  requiredNodeTerms,
  requirementHolds,
  termMatches,
  unmatchedSelector,
} from '../../src/preflight/node-affinity.js';
import { checkNodeFit, nodeMisses } from '../../src/preflight/node-fit.js';
import { podTotal, podViewOf } from '../../src/preflight/pod-spec.js';
import { describeTaint, tolerates, untoleratedTaints } from '../../src/preflight/taints.js';
import type { JsonObject } from '../../src/types/kube.js';
import { container, jobWith, node } from './fixtures.js';

const DEDICATED = { key: 'dedicated', value: 'data-jobs', effect: 'NoSchedule' };

/** The node-fit finding of a pod spec against nodes. */
function fitOf(spec: JsonObject, nodes: KubeNode[]) {
  const pod = podViewOf(jobWith(spec));
  return checkNodeFit(pod, podTotal(pod.containers, 'requests', pod.overhead), nodes);
}

describe('node affinity requirements', () => {
  const req = (operator: string, values: string[] = []): NodeRequirement => ({ key: 'k', operator, values });

  it.each([
    ['In', ['a', 'b'], 'a', true],
    ['In', ['a'], 'c', false],
    ['In', ['a'], undefined, false],
    ['NotIn', ['a'], 'c', true],
    ['NotIn', ['a'], 'a', false],
    ['NotIn', ['a'], undefined, true],
    ['Exists', [], '', true],
    ['Exists', [], undefined, false],
    ['DoesNotExist', [], undefined, true],
    ['DoesNotExist', [], 'x', false],
    ['Gt', ['4'], '8', true],
    ['Gt', ['4'], '4', false],
    ['Gt', ['4'], 'eight', false],
    ['Gt', ['4'], undefined, false],
    ['Lt', ['4'], '3', true],
    ['Lt', ['4'], '-1', true],
    ['Lt', ['4'], '5', false],
    ['Near', ['4'], '4', false],
  ] as const)('%s %j on %j holds: %s', (operator, values, value, holds) => {
    expect(requirementHolds(req(operator, [...values]), value)).toBe(holds);
  });

  it('matches a term when all of its expressions and fields hold; an empty term matches nothing', () => {
    const n = node('n1', { labels: { zone: 'a', disk: 'ssd' } });
    const term = (matchExpressions: NodeRequirement[], matchFields: NodeRequirement[] = []) => ({
      matchExpressions,
      matchFields,
    });
    expect(termMatches(term([{ key: 'zone', operator: 'In', values: ['a'] }]), n)).toBe(true);
    expect(
      termMatches(
        term([
          { key: 'zone', operator: 'In', values: ['a'] },
          { key: 'disk', operator: 'NotIn', values: ['ssd'] },
        ]),
        n,
      ),
    ).toBe(false);
    expect(termMatches(term([], [{ key: 'metadata.name', operator: 'In', values: ['n1'] }]), n)).toBe(true);
    expect(termMatches(term([], [{ key: 'metadata.name', operator: 'NotIn', values: ['n1'] }]), n)).toBe(
      false,
    );
    expect(termMatches(term([]), n)).toBe(false);
  });

  it('reads the required terms (only the required ones) and describes them', () => {
    const terms = requiredNodeTerms({
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [
            {
              matchExpressions: [
                { key: 'gpu', operator: 'Exists' },
                { key: 'zone', operator: 'In', values: ['a', 'b'] },
              ],
            },
          ],
        },
        preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 1, preference: {} }],
      },
    });
    expect(terms?.map(describeTerm)).toEqual(['gpu Exists, zone In [a, b]']);
    expect(
      requiredNodeTerms({ nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [] } }),
    ).toBeUndefined();
    expect(requiredNodeTerms(undefined)).toBeUndefined();
  });

  it('lists the node selector entries a node lacks', () => {
    expect(
      unmatchedSelector({ disk: 'ssd', zone: 'a' }, node('n', { labels: { disk: 'hdd', zone: 'a' } })),
    ).toEqual(['disk=ssd']);
  });
});

describe('taints and tolerations', () => {
  it.each([
    [{ key: 'dedicated', operator: 'Equal', value: 'data-jobs', effect: 'NoSchedule' }, true],
    [{ key: 'dedicated', value: 'data-jobs' }, true],
    [{ key: 'dedicated', value: 'other' }, false],
    [{ key: 'dedicated', operator: 'Exists' }, true],
    [{ key: 'dedicated', operator: 'Exists', effect: 'NoExecute' }, false],
    [{ operator: 'Exists' }, true],
    [{ key: 'other', operator: 'Exists' }, false],
    [{ key: 'dedicated', operator: 'Lt', value: 'data-jobs' }, false],
  ])('%j tolerates dedicated=data-jobs:NoSchedule: %s', (toleration, expected) => {
    expect(tolerates(toleration, DEDICATED)).toBe(expected);
  });

  it('only NoSchedule and NoExecute keep a pod off a node', () => {
    const taints = [
      DEDICATED,
      { key: 'spot', effect: 'PreferNoSchedule' },
      { key: 'gpu', effect: 'NoExecute' },
    ];
    expect(untoleratedTaints(taints, [{ key: 'gpu', operator: 'Exists' }]).map(describeTaint)).toEqual([
      'dedicated=data-jobs:NoSchedule',
    ]);
  });
});

describe('can any node ever run the pod', () => {
  it('names the nodes that fit', () => {
    const finding = fitOf({}, [node('a'), node('b', { taints: [DEDICATED] })]);
    expect(finding).toEqual({
      check: 'node-fit',
      status: 'ok',
      message: '1 of 2 nodes can run the pod (a).',
    });
  });

  it('says, per reason, how many nodes stop the pod: the example sentence of the issue', () => {
    const gpuPod = { containers: [container('main', { limits: { 'nvidia.com/gpu': '1' } })] };
    const finding = fitOf(
      gpuPod,
      [1, 2, 3].map((i) => node(`data-${i}`, { taints: [DEDICATED] })),
    );
    expect(finding.status).toBe('warn');
    expect(finding.message).toBe(
      'no node can run the pod today: no node has nvidia.com/gpu; 3 nodes have taint dedicated=data-jobs:NoSchedule that the pod does not tolerate.',
    );
    expect(finding.fix).toMatch(/cluster autoscaler or Kueue/);
  });

  it('names an unmatched node selector, affinity, too little of a resource, and cordoned nodes', () => {
    const spec = {
      nodeSelector: { pool: 'batch' },
      containers: [container('main', { requests: { cpu: '8', memory: '1Gi' } })],
    };
    const finding = fitOf(spec, [
      node('small', { labels: { pool: 'batch' }, allocatable: { cpu: '4', memory: '8Gi', pods: '110' } }),
      node('web', { labels: { pool: 'web' }, allocatable: { cpu: '16', memory: '64Gi', pods: '110' } }),
      node('cordoned', {
        labels: { pool: 'batch' },
        unschedulable: true,
        allocatable: { cpu: '16', memory: '64Gi', pods: '110' },
      }),
    ]);
    expect(finding.message).toBe(
      'no node can run the pod today: 1 node does not match the node selector pool=batch; 1 node has too little cpu (at most 4 allocatable, the pod requests 8); 1 node is cordoned (unschedulable).',
    );
    const affinity = {
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['eu-1'] }] }],
          },
        },
      },
    };
    expect(fitOf(affinity, [node('a'), node('b')]).message).toBe(
      'no node can run the pod today: 2 nodes do not match the required node affinity (zone In [eu-1]).',
    );
  });

  it('counts the pod requests as the scheduler does: init containers at their peak, sidecars alongside, overhead', () => {
    const pod = podViewOf(
      jobWith({
        containers: [container('main', { requests: { cpu: '1' } })],
        initContainers: [
          container('sidecar', { requests: { cpu: '500m' } }, { restartPolicy: 'Always' }),
          container('setup', { requests: { cpu: '2' } }),
        ],
        overhead: { cpu: '100m' },
      }),
    );
    // max(1 + 0.5 running, 2 + 0.5 during setup) + 0.1 overhead
    expect(podTotal(pod.containers, 'requests', pod.overhead).get('cpu')).toBeCloseTo(2.6);
    // A container that only limits a resource requests its limit.
    const limited = podViewOf(jobWith({ containers: [container('main', { limits: { memory: '2Gi' } })] }));
    expect(podTotal(limited.containers, 'requests', limited.overhead).get('memory')).toBe(2 * 2 ** 30);
  });

  it('honours spec.nodeName, a cordoned node tolerated, and warns when there is no node at all', () => {
    expect(fitOf({ nodeName: 'gone' }, [node('a')]).message).toBe(
      'no node can run the pod today: no node is named "gone" (the pod\'s spec.nodeName).',
    );
    const tolerant = { tolerations: [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists' }] };
    expect(fitOf(tolerant, [node('a', { unschedulable: true })]).status).toBe('ok');
    expect(fitOf({}, [])).toMatchObject({ status: 'warn', message: expect.stringMatching(/no Node today/) });
  });

  it('lists every reason of one node', () => {
    const pod = podViewOf(
      jobWith({
        nodeSelector: { a: 'b' },
        containers: [container('main', { requests: { 'example.com/fpga': '1' } })],
      }),
    );
    expect(
      nodeMisses(pod, podTotal(pod.containers, 'requests', pod.overhead), node('n', { taints: [DEDICATED] })),
    ).toEqual([
      { kind: 'selector', unmatched: ['a=b'] },
      { kind: 'taint', taint: 'dedicated=data-jobs:NoSchedule' },
      { kind: 'missing-resource', resource: 'example.com/fpga' },
    ]);
  });
});
