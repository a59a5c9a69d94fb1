import type { PodScript } from '../src/testing/pod-script.js';
import { seededRandom } from '../test/support/fake-apiserver/seeded-random.js';
import type { WorkloadBlock } from './protocol.js';

/** The pipeline every benchmark runs. */
export const PIPELINE = 'bench';

/** The command of the bench config: a template of the block and the pipeline run (the same in every block run). */
export const BENCH_COMMAND = 'echo {{ block_uuid }} {{ pipeline_run_id }}';

/**
 * A Mage project whose pipeline has `blocks`, with a realistic executor config (resources, env, labels,
 * node selector, tolerations, a command template), so resolving and building is not a trivial case.
 * `command` replaces the third word of the container's command (`sh -c <command>`).
 */
export function projectFiles(
  blocks: readonly WorkloadBlock[],
  command: string = BENCH_COMMAND,
  target: ProjectTarget = {},
): Record<string, string> {
  const list = blocks
    .map((b) => `  - uuid: ${b.uuid}\n    upstream_blocks: [${b.upstream.join(', ')}]\n`)
    .join('');
  const annotations = target.podAnnotations
    ? `  metadata: {annotations: ${JSON.stringify(target.podAnnotations)}}\n`
    : '';
  return {
    'metadata.yaml': `executor_type: k8s
k8s_executor_config:
  namespace: ${target.namespace ?? 'bench'}
  job_name_prefix: data-prep
  resource_requests: {cpu: 250m, memory: 256Mi}
  resource_limits: {cpu: "1", memory: 1Gi}
  labels: {team: data, cost-center: "42"}
${target.namespace ? '' : '  node_selector: "pool=batch,zone=a"\n'}${annotations}  tolerations:
    - {key: dedicated, operator: Equal, value: batch, effect: NoSchedule}
  container:
    image: busybox:1.36
    command: ["sh", "-c", ${JSON.stringify(command)}]
    env:
      - {name: STAGE, value: bench}
      - {name: DB_PASSWORD, valueFrom: {secretKeyRef: {name: db, key: password}}}
`,
    [`pipelines/${PIPELINE}/metadata.yaml`]: `uuid: ${PIPELINE}\nblocks:\n${list}`,
  };
}

/**
 * Where the bench project's Jobs go: the fake server's namespace `bench` (the default), or a real
 * cluster's namespace, without the node selector (its nodes have no such labels) and with pod
 * annotations (the e2e cluster's KWOK reads a pod's fate from them).
 */
export interface ProjectTarget {
  namespace?: string;
  podAnnotations?: Record<string, string>;
}

/** `count` blocks with no dependencies: b0, b1, ... */
export function independentBlocks(count: number): WorkloadBlock[] {
  return Array.from({ length: count }, (_, i) => ({ uuid: `b${i}`, upstream: [] }));
}

/**
 * A layered DAG: `levels` levels of `width` blocks; each block below the first level waits for
 * `fanIn` distinct blocks of the level above, drawn with `seed`.
 */
export function layeredDag(levels: number, width: number, fanIn: number, seed: number): WorkloadBlock[] {
  const random = seededRandom(seed);
  const blocks: WorkloadBlock[] = [];
  for (let level = 0; level < levels; level++) {
    for (let i = 0; i < width; i++) {
      const upstream = new Set<string>();
      while (level > 0 && upstream.size < Math.min(fanIn, width)) {
        upstream.add(`b${(level - 1) * width + Math.floor(random() * width)}`);
      }
      blocks.push({ uuid: `b${level * width + i}`, upstream: [...upstream] });
    }
  }
  return blocks;
}

/** The block index a Job name ends with (`mage-data-prep-block-17`, `mage-data-prep-block-1-b17`). */
export function blockIndexOf(jobName: string): number {
  const match = /(\d+)$/.exec(jobName);
  return match ? Number(match[1]) : -1;
}

/** Pod scripts by block index: `runMs` drawn in [minMs, maxMs), a share exiting 3, three log lines each. */
export function scriptPlan(
  count: number,
  options: { minMs: number; maxMs: number; failShare?: number; seed: number },
): PodScript[] {
  const random = seededRandom(options.seed);
  return Array.from({ length: count }, (_, i) => {
    const runMs = Math.round(options.minMs + random() * (options.maxMs - options.minMs));
    const fails = random() < (options.failShare ?? 0);
    return {
      runMs,
      logs: [`start b${i}`, 'working', fails ? 'boom' : 'done'],
      ...(fails ? { exitCode: 3 } : {}),
    };
  });
}
