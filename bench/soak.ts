/**
 * The soak: a day's worth of short blocks (100,000 in the full run) through one executor, to show that
 * nothing it holds grows with the blocks that ended: memory is sampled after a full GC as the blocks
 * go by, and the growth is reported (the slope of the heap after GC, per block, past a warm-up).
 */
import { fork } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFakeApiServer } from '../test/support/fake-apiserver/index.js';
import type { SoakReport, SoakSample, SoakTask } from './soak-worker.js';
import { round } from './stats.js';

/** The share of the run left out of the growth estimate: caches, pools and JIT settle first. */
const WARM_UP_SHARE = 0.2;

/** What the soak measured. */
export interface SoakOutcome extends SoakReport {
  blocks: number;
  concurrency: number;
  /** Requests the server received (streaming lists included). */
  serverRequests: number;
  /** Blocks finished per second of wall time. */
  blocksPerSecond: number;
  /** Heap after GC: growth per 1,000 blocks past the warm-up (least squares), and first and last values. */
  heapGrowthKiBPer1000: number;
  heapAfterWarmUpMiB: number;
  heapAtEndMiB: number;
  rssAfterWarmUpMiB: number;
  rssAtEndMiB: number;
  /** What the hub held when every block was done. */
  hubAtEnd: SoakSample['hub'];
}

/** Runs the soak: `blocks` blocks, `concurrency` at a time, in an executor process of its own. */
export async function runSoak(options: { blocks: number; concurrency: number }): Promise<SoakOutcome> {
  const server = await startFakeApiServer({
    namespace: 'bench',
    // Every block succeeds at once after two log lines; a Kubernetes >= 1.32 API server.
    scripts: () => [{ logs: ['start', 'done'] }],
    watchList: 'serve',
  });
  try {
    const task: SoakTask = {
      kubeconfigPath: server.kubeconfigPath,
      blocks: options.blocks,
      concurrency: options.concurrency,
      sampleEvery: Math.max(options.concurrency, Math.round(options.blocks / 50)),
    };
    const report = await runSoakWorker(task);
    const samples = report.samples;
    const afterWarmUp = samples.filter((s) => s.blocks >= options.blocks * WARM_UP_SHARE);
    const first = afterWarmUp[0] ?? samples[0]!;
    const last = samples.at(-1)!;
    return {
      ...report,
      blocks: options.blocks,
      concurrency: options.concurrency,
      serverRequests: server.stats().requests,
      blocksPerSecond: (options.blocks * 1000) / report.wallMs,
      heapGrowthKiBPer1000: slope(afterWarmUp.map((s) => [s.blocks, s.heapUsedMiB * 1024])) * 1000,
      heapAfterWarmUpMiB: first.heapUsedMiB,
      heapAtEndMiB: last.heapUsedMiB,
      rssAfterWarmUpMiB: first.rssMiB,
      rssAtEndMiB: last.rssMiB,
      hubAtEnd: last.hub,
    };
  } finally {
    await server.close();
  }
}

function runSoakWorker(task: SoakTask): Promise<SoakReport> {
  const here = dirname(fileURLToPath(import.meta.url));
  const child = fork(join(here, 'soak-worker.js'), [], {
    execArgv: ['--expose-gc'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    let report: SoakReport | undefined;
    child.once('message', (message) => {
      report = message as SoakReport;
    });
    child.once('exit', (code) =>
      report ? resolve(report) : reject(new Error(`soak worker exited with code ${code}`)),
    );
    child.send(task);
  });
}

/** The least-squares slope of y over x (0 with fewer than two points). */
function slope(points: readonly (readonly [number, number])[]): number {
  if (points.length < 2) return 0;
  const n = points.length;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const sxx = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  const sxy = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  return sxx === 0 ? 0 : sxy / sxx;
}

/** The markdown section of the soak, appended to the numbers of docs/performance.md. */
export function renderSoak(o: SoakOutcome): string {
  const growthOverRun = (o.heapGrowthKiBPer1000 * o.blocks * (1 - WARM_UP_SHARE)) / 1000 / 1024;
  const held = o.hubAtEnd;
  const rows: [string, string][] = [
    [
      'Blocks (all scripted to succeed, 2 log lines each, logs followed)',
      `${o.blocks}, ${o.concurrency} at a time`,
    ],
    ['Wall time / throughput', `${round(o.wallMs / 1000)} s / ${round(o.blocksPerSecond)} blocks per s`],
    ['Wrong results', `${o.other}${o.otherExamples.length > 0 ? ` (${o.otherExamples.join('; ')})` : ''}`],
    ['Log lines delivered / printed', `${o.logLines} / ${o.blocks * 2}`],
    ['Requests (server) per block', String(round(o.serverRequests / o.blocks))],
    [
      `Heap after GC, after the first ${WARM_UP_SHARE * 100} % → at the end`,
      `${round(o.heapAfterWarmUpMiB)} MiB → ${round(o.heapAtEndMiB)} MiB`,
    ],
    [
      'Heap growth past the warm-up (least squares over the samples)',
      `${round(o.heapGrowthKiBPer1000)} KiB per 1,000 blocks (${round(growthOverRun)} MiB over the run)`,
    ],
    [
      'RSS after loading the SDK; after the warm-up → at the end (peak)',
      `${round(o.baselineRssMiB)} MiB; ${round(o.rssAfterWarmUpMiB)} → ${round(o.rssAtEndMiB)} MiB (${round(o.maxRssMiB)} MiB)`,
    ],
    [
      'Held by the hub at the end',
      `${held.subscribedJobs} subscribed Jobs, ${held.cachedJobs} cached Jobs, ${held.cachedPods} cached pods`,
    ],
    ['Executor CPU time', `${round(o.cpuMs / 1000)} s (${round(o.cpuMs / o.blocks)} ms per block)`],
  ];
  return [
    '### Soak: a day of short blocks',
    '',
    '| Measure | Value |',
    '| --- | --- |',
    ...rows.map(([k, v]) => `| ${k} | ${v} |`),
  ].join('\n');
}
