import { fork } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PodScript } from '../src/testing/pod-script.js';
import { type FakeApiServer, startFakeApiServer } from '../test/support/fake-apiserver/index.js';
import type { BlockTiming, RateLimit, WorkerReport, WorkerTask, WorkloadBlock } from './protocol.js';
import { type Summary, summarize } from './stats.js';
import { blockIndexOf, layeredDag, scriptPlan } from './workload.js';

/** The adapter's defaults (client-go's): what a user gets without tuning. */
export const DEFAULT_RATE_LIMIT: RateLimit = { qps: 20, burst: 30 };

/** Runs one task in a fresh executor process and returns its report. */
export function runWorker(task: WorkerTask): Promise<WorkerReport> {
  const here = dirname(fileURLToPath(import.meta.url));
  const child = fork(join(here, 'worker.js'), [], {
    execArgv: [],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    let report: WorkerReport | undefined;
    child.once('message', (message) => {
      report = message as WorkerReport;
    });
    child.once('exit', (code) =>
      report ? resolve(report) : reject(new Error(`bench worker (${task.kind}) exited with code ${code}`)),
    );
    child.send(task);
  });
}

/** Starts a fake API server whose Job `...<i>` plays `plan[i]`. */
function serverFor(plan: readonly PodScript[]): Promise<FakeApiServer> {
  return startFakeApiServer({
    namespace: 'bench',
    scripts: (jobName) => [plan[blockIndexOf(jobName)] ?? {}],
  });
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
  cpuMs: number;
  maxRssMiB: number;
  baselineRssMiB: number;
  wallMs: number;
}

/** Runs `plan.length` independent blocks at once through one block executor. */
export async function runBlocks(
  plan: readonly PodScript[],
  options: { withLogs: boolean; rateLimit: RateLimit },
): Promise<BlocksOutcome> {
  const server = await serverFor(plan);
  try {
    const report = await runWorker({
      kind: 'blocks',
      kubeconfigPath: server.kubeconfigPath,
      count: plan.length,
      withLogs: options.withLogs,
      rateLimit: options.rateLimit,
    });
    const stats = server.stats();
    const timings = report.timings ?? [];
    const wrong = timings.flatMap((t) => {
      const script = plan[blockIndexOf(t.jobName)];
      const expected = (script?.exitCode ?? 0) === 0 ? 'succeeded' : `failed EXIT_CODE ${script?.exitCode}`;
      const got = t.status === 'failed' ? `failed ${t.reason} ${t.exitCode ?? ''}`.trim() : t.status;
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
              printed: plan.reduce((sum, p) => sum + (p.logs?.length ?? 0), 0),
            },
          }
        : {}),
      ...latencies(timings, stats.finalConditionAt),
      byCall: stats.byCall,
      adapterRequests: report.apiCalls?.requests ?? 0,
      serverRequests: stats.requests,
      maxOpenWatches: stats.maxOpenWatches,
      maxOpenLogStreams: stats.maxOpenLogStreams,
      cpuMs: report.cpuMs,
      maxRssMiB: report.maxRssMiB,
      baselineRssMiB: report.baselineRssMiB,
      wallMs: report.wallMs,
    };
  } finally {
    await server.close();
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
