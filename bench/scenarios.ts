import { type ChildProcess, fork, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PodScript } from '../src/testing/pod-script.js';
import {
  type FakeApiServer,
  preciseNow,
  type Route,
  startFakeApiServer,
} from '../test/support/fake-apiserver/index.js';
import { cpuTicks, stealShare } from './cpu-steal.js';
import type { BlockTiming, RateLimit, WorkerReport, WorkerTask, WorkloadBlock } from './protocol.js';
import { type Summary, summarize } from './stats.js';
import { blockIndexOf, layeredDag, scriptPlan } from './workload.js';

/** The label that carries a pipeline run's id: a list selecting on it is the run's, not the hub's. */
export const RUN_ID_LABEL = 'k8s-executor/pipeline-run-id';

/** The adapter's defaults (client-go's): what a user gets without tuning. */
export const DEFAULT_RATE_LIMIT: RateLimit = { qps: 20, burst: 30 };

/**
 * Runs one task in a fresh executor process and returns its report. With `procsFile` (a cgroup's, see
 * bench/memory-cgroup.ts) the process starts in that cgroup: a shell moves itself there, then becomes
 * Node, so that Node reads the cgroup's limit when it sizes its heap (the IPC channel passes the exec).
 */
export function runWorker(task: WorkerTask, procsFile?: string): Promise<WorkerReport> {
  const here = dirname(fileURLToPath(import.meta.url));
  const execArgv =
    task.kind === 'blocks' ? [...(task.nodeFlags ?? []), ...(task.liveHeap ? ['--expose-gc'] : [])] : [];
  const stdio = ['ignore', 'inherit', 'inherit', 'ipc'] as const;
  const child: ChildProcess = procsFile
    ? spawn(
        '/bin/sh',
        [
          '-c',
          'echo $$ > "$1" && shift && exec "$@"',
          'sh',
          procsFile,
          process.execPath,
          ...execArgv,
          join(here, 'worker.js'),
        ],
        { stdio: [...stdio] },
      )
    : fork(join(here, 'worker.js'), [], { execArgv, stdio: [...stdio] });
  return new Promise((resolve, reject) => {
    let report: WorkerReport | undefined;
    child.once('message', (message) => {
      report = message as WorkerReport;
    });
    child.once('exit', (code, signal) =>
      report
        ? resolve(report)
        : reject(
            new Error(
              `bench worker (${task.kind}) exited with ${signal ? `signal ${signal}` : `code ${code}`}` +
                (signal === 'SIGKILL' && procsFile ? " (killed at its memory cgroup's limit?)" : ''),
            ),
          ),
    );
    child.send(task);
  });
}

/**
 * Starts a fake API server whose Job `...<i>` plays `plan[i]`. `onRequest` is called when a request
 * has been received whole, before it is served.
 */
function serverFor(
  plan: readonly PodScript[],
  onRequest?: (route: Route, at: number) => void,
): Promise<FakeApiServer> {
  return startFakeApiServer({
    namespace: 'bench',
    scripts: (jobName) => [plan[blockIndexOf(jobName)] ?? {}],
    ...(onRequest
      ? {
          latencyMs: (route: Route) => {
            onRequest(route, preciseNow());
            return 0;
          },
        }
      : {}),
  });
}

/** The most blocks running at once: a sweep over the intervals from `running` to detection. */
export function maxRunningAtOnce(timings: readonly BlockTiming[]): number {
  const edges = timings.flatMap((t) =>
    t.runningAt !== undefined && t.detectedAt !== undefined
      ? [
          [t.runningAt, 1],
          [t.detectedAt, -1],
        ]
      : [],
  );
  edges.sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!);
  let running = 0;
  let max = 0;
  for (const [, step] of edges) {
    running += step!;
    max = Math.max(max, running);
  }
  return max;
}

/** Detection latencies (executor event − server condition write) and result latencies, in ms. */
function latencies(timings: readonly BlockTiming[], finalAt: Readonly<Record<string, number>>) {
  const detection: number[] = [];
  const result: number[] = [];
  for (const t of timings) {
    const at = finalAt[t.jobName];
    if (at === undefined) continue;
    if (t.detectedAt !== undefined) detection.push(t.detectedAt - at);
    if (t.resultAt !== undefined) result.push(t.resultAt - at);
  }
  return { detection: summarize(detection), result: summarize(result) };
}

/** Round-trip time of one request (a dry-run create), unloaded. */
export async function measureRoundTrip(samples: number): Promise<Summary> {
  const server = await startFakeApiServer({ namespace: 'bench' });
  try {
    const report = await runWorker({ kind: 'rtt', kubeconfigPath: server.kubeconfigPath, samples });
    return summarize(report.rttMs ?? []);
  } finally {
    await server.close();
  }
}

/** The outcome of a run of independent blocks. */
export interface BlocksOutcome {
  blocks: number;
  /** Blocks whose result differs from the scripted truth (status, exit code), or that have none. */
  wrongResults: number;
  /** The first few of them, for the report. */
  wrongExamples: { jobName: string; expected: string; got: string }[];
  /** Log lines delivered to `onLog`, and how many the pods printed (when logs were followed). */
  logLines?: { received: number; printed: number };
  detection: Summary;
  result: Summary;
  /** Requests the server received, by `"<verb> <resource>"`. */
  byCall: Record<string, number>;
  /** What the adapter counted (equal to the server's when no request failed). */
  adapterRequests: number;
  serverRequests: number;
  maxOpenWatches: number;
  maxOpenLogStreams: number;
  /** The most sockets the executor process held at once (sampled every 100 ms). */
  maxSockets: number;
  /** The most blocks running at once (from each block's `running` event to its detection). */
  maxRunning: number;
  /** The live heap of the idle executor and with every block running, when measured (MiB). */
  liveHeapMiB?: { idle: number; allRunning: number | undefined };
  /** Blocks given a log sink. */
  logBlocks: number;
  /** The longest scripted run time of a block, ms. */
  blockMs: number;
  rateLimit: RateLimit;
  /** The executor process's Node and V8 flags (none: Node's defaults). */
  nodeFlags: string[];
  /** The memory limit of the cgroup the executor process ran in (none: the machine's memory), MiB. */
  memoryLimitMiB?: number;
  /** V8's heap size limit in the executor process (as Node sized it), MiB; absent in results before 2026-12-03. */
  heapLimitMiB?: number;
  /**
   * The machine's CPU steal from the worker's start to its report (0–1, see `stealShare`), where it
   * can be read.
   */
  cpuStealShare?: number;
  cpuMs: number;
  maxRssMiB: number;
  baselineRssMiB: number;
  wallMs: number;
}

/**
 * Runs `plan.length` independent blocks at once through one block executor; with `withLogs`, the
 * first `logBlocks` (default: all) get a log sink.
 */
export async function runBlocks(
  plan: readonly PodScript[],
  options: {
    withLogs: boolean;
    logBlocks?: number;
    rateLimit: RateLimit;
    liveHeap?: boolean;
    nodeFlags?: string[];
    /** A memory cgroup to run the executor process in (bench/memory-cgroup.ts), and its limit. */
    cgroup?: { procsFile: string; limitMiB: number };
  },
): Promise<BlocksOutcome> {
  const server = await serverFor(plan);
  try {
    const ticks = cpuTicks();
    const report = await runWorker(
      {
        kind: 'blocks',
        kubeconfigPath: server.kubeconfigPath,
        count: plan.length,
        withLogs: options.withLogs,
        ...(options.logBlocks !== undefined ? { logBlocks: options.logBlocks } : {}),
        rateLimit: options.rateLimit,
        ...(options.liveHeap ? { liveHeap: true } : {}),
        ...(options.nodeFlags ? { nodeFlags: options.nodeFlags } : {}),
      },
      options.cgroup?.procsFile,
    );
    const cpuStealShare = stealShare(ticks, cpuTicks());
    const stats = server.stats();
    const timings = report.timings ?? [];
    const logBlocks = options.withLogs ? Math.min(options.logBlocks ?? plan.length, plan.length) : 0;
    const wrong = timings.flatMap((t) => {
      const script = plan[blockIndexOf(t.jobName)];
      const expected = (script?.exitCode ?? 0) === 0 ? 'succeeded' : `failed EXIT_CODE ${script?.exitCode}`;
      const got =
        t.status === 'failed'
          ? `failed ${t.reason} ${t.exitCode ?? ''}`.trim()
          : t.status === 'rejected'
            ? `execute() rejected with ${t.reason}`
            : t.status;
      return got === expected ? [] : [{ jobName: t.jobName, expected, got }];
    });
    return {
      blocks: plan.length,
      wrongResults: wrong.length + (plan.length - timings.length),
      wrongExamples: wrong.slice(0, 10),
      ...(options.withLogs
        ? {
            logLines: {
              received: timings.reduce((sum, t) => sum + (t.logLines ?? 0), 0),
              printed: plan.slice(0, logBlocks).reduce((sum, p) => sum + (p.logs?.length ?? 0), 0),
            },
          }
        : {}),
      ...latencies(timings, stats.finalConditionAt),
      byCall: stats.byCall,
      adapterRequests: report.apiCalls?.requests ?? 0,
      serverRequests: stats.requests,
      maxOpenWatches: stats.maxOpenWatches,
      maxOpenLogStreams: stats.maxOpenLogStreams,
      maxSockets: report.maxSockets,
      maxRunning: maxRunningAtOnce(timings),
      ...(report.liveHeapMiB ? { liveHeapMiB: report.liveHeapMiB } : {}),
      logBlocks,
      blockMs: plan.reduce((max, p) => Math.max(max, p.runMs ?? 0), 0),
      rateLimit: options.rateLimit,
      nodeFlags: options.nodeFlags ?? [],
      ...(options.cgroup ? { memoryLimitMiB: options.cgroup.limitMiB } : {}),
      heapLimitMiB: report.heapLimitMiB,
      ...(cpuStealShare !== undefined ? { cpuStealShare } : {}),
      cpuMs: report.cpuMs,
      maxRssMiB: report.maxRssMiB,
      baselineRssMiB: report.baselineRssMiB,
      wallMs: report.wallMs,
    };
  } finally {
    await server.close();
  }
}

/** The outcome of a chain of sequential blocks (each waiting for the one before). */
export interface ChainOutcome {
  blocks: number;
  blockMs: number;
  status: string;
  /**
   * Requests the server received, by `"<verb> <resource>"`; the lists of the run's own Jobs (when it
   * starts, to adopt what an earlier run left, and for its final cleanup) apart as `"list jobs (run)"`.
   */
  byCall: Record<string, number>;
  serverRequests: number;
  /**
   * From the upstream's final condition (written by the server) to the server receiving the
   * downstream's create request, for each of the `blocks - 1` hand-offs, ms.
   */
  handOff: Summary;
  /**
   * The part of each hand-off after its detection: from the executor's `succeeded` event of the
   * upstream (in the worker) to the server receiving the downstream's create request, ms. It is the
   * executor's scheduling, the downstream's resolve and build and its create request on its way.
   */
  afterDetection: Summary;
  detection: Summary;
  logLines: { received: number; printed: number };
  /** From `run()` to its result, ms. */
  wallMs: number;
  cpuMs: number;
  maxRssMiB: number;
  maxSockets: number;
  maxOpenWatches: number;
  maxOpenLogStreams: number;
  /**
   * The machine's CPU steal from the worker's start to its report, the warm-up chain included (0–1, see
   * `stealShare`), where it can be read.
   */
  cpuStealShare?: number;
}

/** The blocks of the chain the worker runs on a server of its own before the measured chain. */
const WARM_UP_BLOCKS = 4;

/**
 * Runs `count` blocks of `blockMs` in a chain (b1 waits for b0, ...) through the pipeline executor, logs
 * followed, after a warm-up chain of {@link WARM_UP_BLOCKS} in the same worker (on another server, so
 * that nothing of it is counted).
 */
export async function runChain(count: number, blockMs: number, rateLimit: RateLimit): Promise<ChainOutcome> {
  const blocks = Array.from({ length: count }, (_, i) => ({
    uuid: `b${i}`,
    upstream: i === 0 ? [] : [`b${i - 1}`],
  }));
  const plan = scriptPlan(count, { minMs: blockMs, maxMs: blockMs, seed: 17 });
  const createdAt: number[] = [];
  let runLists = 0;
  const server = await serverFor(plan, (route, at) => {
    if (route.verb === 'create' && route.resource === 'jobs' && !route.query.has('dryRun'))
      createdAt.push(at);
    if (route.verb === 'list' && route.query.get('labelSelector')?.includes(RUN_ID_LABEL)) runLists++;
  });
  const warmUpServer = await serverFor(plan);
  try {
    const ticks = cpuTicks();
    const report = await runWorker({
      kind: 'dag',
      kubeconfigPath: server.kubeconfigPath,
      blocks,
      concurrency: 1,
      rateLimit,
      withLogs: true,
      // Counted once a second: a count every 100 ms (about 0.5 ms each) would sit in about one hand-off in 30.
      socketSampleMs: 1000,
      warmUp: { kubeconfigPath: warmUpServer.kubeconfigPath, blocks: blocks.slice(0, WARM_UP_BLOCKS) },
    });
    const cpuStealShare = stealShare(ticks, cpuTicks());
    const stats = server.stats();
    // In a chain the creates arrive in block order: the k-th create is block k's.
    if (createdAt.length !== count) {
      throw new Error(`the chain of ${count} blocks sent ${createdAt.length} creates`);
    }
    const finalByBlock = new Map(
      Object.entries(stats.finalConditionAt).map(([jobName, at]) => [blockIndexOf(jobName), at]),
    );
    const handOff = createdAt.slice(1).map((at, k) => at - (finalByBlock.get(k) ?? Number.NaN));
    const detectedByBlock = new Map(
      (report.timings ?? []).map((t) => [blockIndexOf(t.jobName), t.detectedAt ?? Number.NaN]),
    );
    const afterDetection = createdAt.slice(1).map((at, k) => at - (detectedByBlock.get(k) ?? Number.NaN));
    const dag = report.dag!;
    const byCall: Record<string, number> = { ...stats.byCall, 'list jobs (run)': runLists };
    byCall['list jobs'] = (byCall['list jobs'] ?? 0) - runLists;
    return {
      blocks: count,
      blockMs,
      status: dag.status,
      byCall,
      serverRequests: stats.requests,
      handOff: summarize(handOff),
      afterDetection: summarize(afterDetection),
      detection: latencies(report.timings ?? [], stats.finalConditionAt).detection,
      logLines: { received: dag.logLines ?? 0, printed: plan.reduce((n, p) => n + (p.logs?.length ?? 0), 0) },
      wallMs: dag.finishedAt - dag.startedAt,
      cpuMs: report.cpuMs,
      maxRssMiB: report.maxRssMiB,
      maxSockets: report.maxSockets,
      maxOpenWatches: stats.maxOpenWatches,
      maxOpenLogStreams: stats.maxOpenLogStreams,
      ...(cpuStealShare !== undefined ? { cpuStealShare } : {}),
    };
  } finally {
    await Promise.all([server.close(), warmUpServer.close()]);
  }
}

/** The outcome of a DAG run. */
export interface DagOutcome {
  blocks: number;
  levels: number;
  width: number;
  concurrency: number;
  status: string;
  /** From `run()` to its result (config resolution up front and final cleanup included), ms. */
  wallMs: number;
  /** From `run()` to the end of the last block, ms. */
  toLastBlockMs: number;
  /** Sum of scripted durations along the longest path, ms. */
  criticalPathMs: number;
  /** Blocks on that path. */
  criticalPathBlocks: number;
  /** The per-block API cost used in the bound (p50 round trip + p50 detection), ms. */
  perBlockApiMs: number;
  /** The lower bound: the longest path with `perBlockApiMs` added per block, ms. */
  lowerBoundMs: number;
  detection: Summary;
  serverRequests: number;
  cpuMs: number;
  maxRssMiB: number;
}

/** Runs a layered DAG through the pipeline executor and computes its lower bound. */
export async function runDag(options: {
  levels: number;
  width: number;
  fanIn: number;
  minMs: number;
  maxMs: number;
  concurrency: number;
  rateLimit: RateLimit;
  perBlockApiMs: number;
}): Promise<DagOutcome> {
  const blocks = layeredDag(options.levels, options.width, options.fanIn, 11);
  const plan = scriptPlan(blocks.length, { minMs: options.minMs, maxMs: options.maxMs, seed: 13 });
  const server = await serverFor(plan);
  try {
    const report = await runWorker({
      kind: 'dag',
      kubeconfigPath: server.kubeconfigPath,
      blocks,
      concurrency: options.concurrency,
      rateLimit: options.rateLimit,
    });
    const stats = server.stats();
    const bound = lowerBound(blocks, plan, options.perBlockApiMs);
    const dag = report.dag!;
    return {
      blocks: blocks.length,
      levels: options.levels,
      width: options.width,
      concurrency: options.concurrency,
      status: dag.status,
      wallMs: dag.finishedAt - dag.startedAt,
      toLastBlockMs: dag.lastBlockFinishedAt - dag.startedAt,
      criticalPathMs: bound.durationMs,
      criticalPathBlocks: bound.blocks,
      perBlockApiMs: options.perBlockApiMs,
      lowerBoundMs: bound.boundMs,
      detection: latencies(report.timings ?? [], stats.finalConditionAt).detection,
      serverRequests: stats.requests,
      cpuMs: report.cpuMs,
      maxRssMiB: report.maxRssMiB,
    };
  } finally {
    await server.close();
  }
}

/**
 * The longest path through the DAG, where a block costs its scripted duration plus `perBlockApiMs`:
 * no executor can finish sooner, since each block on the path must be created, run, and seen finished
 * before the next one can be created.
 */
function lowerBound(
  blocks: readonly WorkloadBlock[],
  plan: readonly PodScript[],
  perBlockApiMs: number,
): { boundMs: number; durationMs: number; blocks: number } {
  const best = new Map<string, { boundMs: number; durationMs: number; blocks: number }>();
  for (const block of blocks) {
    // Blocks are generated level by level, so every upstream is already known.
    const before = block.upstream
      .map((u) => best.get(u)!)
      .reduce((a, b) => (b.boundMs > a.boundMs ? b : a), { boundMs: 0, durationMs: 0, blocks: 0 });
    const runMs = plan[blockIndexOf(block.uuid)]?.runMs ?? 0;
    best.set(block.uuid, {
      boundMs: before.boundMs + runMs + perBlockApiMs,
      durationMs: before.durationMs + runMs,
      blocks: before.blocks + 1,
    });
  }
  return [...best.values()].reduce((a, b) => (b.boundMs > a.boundMs ? b : a));
}

/** Resolve + build throughput of the pure core. */
export async function measureCore(durationMs: number): Promise<NonNullable<WorkerReport['core']>> {
  const report = await runWorker({ kind: 'core', durationMs });
  return report.core!;
}
