/**
 * `npm run bench`: measures the executor against the fake API server over HTTP on 127.0.0.1 (the real
 * client-node adapter path), writes `bench/results/latest.json`, and regenerates the numbers section
 * of `docs/performance.md`. See that file for the method.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, platform, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { cpuTicks, stealShare } from './cpu-steal.js';
import { createMemoryCgroup } from './memory-cgroup.js';
import { type BenchResults, renderNumbers } from './report.js';
import {
  DEFAULT_RATE_LIMIT,
  measureCore,
  measureRoundTrip,
  runBlocks,
  runChain,
  runDag,
} from './scenarios.js';
import { renderSoak, runSoak, type SoakOutcome } from './soak.js';
import { scriptPlan } from './workload.js';

const ROOT = process.cwd();
/** `--quick`: every scenario scaled down about tenfold, results to quick.json, docs untouched (a smoke run). */
const QUICK = process.argv.includes('--quick');
const scale = (full: number, quick: number) => (QUICK ? quick : full);
/** `--soak-only`: only the soak, printed, docs and results untouched. */
const SOAK_ONLY = process.argv.includes('--soak-only');
/**
 * `--many-only[=ms]`: only the 10,000 concurrent blocks with Node's defaults (blocks of `ms`, default
 * 240,000), printed, docs and results untouched: the memory target's scenario alone, about 5 minutes.
 */
const MANY_ONLY = process.argv.find((a) => a === '--many-only' || a.startsWith('--many-only='));
/** `--live-only`: only the live heap of 2,000 running blocks (`K8S_BENCH_SNAPSHOTS=dir` for heap snapshots). */
const LIVE_ONLY = process.argv.includes('--live-only');
/** `--soak-blocks=N`: the soak's length (default: 30,000, or 3,000 with `--quick`). */
const SOAK_BLOCKS = Number(
  process.argv.find((a) => a.startsWith('--soak-blocks='))?.split('=')[1] ?? Number.NaN,
);
const START = '<!-- bench:numbers:start -->';
const END = '<!-- bench:numbers:end -->';

function log(message: string): void {
  console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}`);
}

async function main(): Promise<void> {
  const ticksAtStart = cpuTicks();
  const machine = {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    os: `${platform()} ${release()}`,
    node: process.version,
    date: new Date().toISOString(),
    loadAverageAtStart: loadavg().map((l) => Math.round(l * 100) / 100),
  };
  log(`${machine.cpu} x${machine.cores}, Node ${machine.node}, load ${machine.loadAverageAtStart.join(' ')}`);
  if (SOAK_ONLY) {
    console.log(renderSoak(await soak()));
    return;
  }
  if (LIVE_ONLY) {
    const live = await liveHeapRun();
    console.log(JSON.stringify({ liveHeapMiB: live.liveHeapMiB, wrongResults: live.wrongResults }));
    return;
  }
  if (MANY_ONLY) {
    const manyPlan = manyBlocksPlan(Number(MANY_ONLY.split('=')[1] ?? 240_000));
    const many = await runBlocks(manyPlan, { withLogs: false, rateLimit: MANY_RATE });
    console.log(JSON.stringify(many, null, 2));
    return;
  }

  // The 60 s blocks mostly wait: they run in the background while the short scenarios are measured.
  const longMs = scale(60_000, 6000);
  log(`requests per block: 20 blocks of ${longMs / 1000} s (background)`);
  const long = runBlocks(scriptPlan(20, { minMs: longMs, maxMs: longMs, seed: 2 }), {
    withLogs: true,
    rateLimit: DEFAULT_RATE_LIMIT,
  });

  const samples = scale(200, 20);
  log(`round trip: ${samples} sequential dry-run creates`);
  const roundTrip = await measureRoundTrip(samples);

  const latencyPlan = scriptPlan(scale(200, 40), { minMs: 1000, maxMs: 4000, failShare: 0.1, seed: 7 });
  log(
    `detection latency: ${latencyPlan.length} blocks of 1-4 s started at once, logs followed, default qps 20`,
  );
  const latency = await runBlocks(latencyPlan, { withLogs: true, rateLimit: DEFAULT_RATE_LIMIT });
  log('detection latency: the same blocks with the client-side rate limit out of the way (qps 1000)');
  const latencyUnthrottled = await runBlocks(latencyPlan, {
    withLogs: true,
    rateLimit: { qps: 1000, burst: 1000 },
  });

  log('requests per block: 20 blocks of 1 s');
  const short = await runBlocks(scriptPlan(20, { minMs: 1000, maxMs: 1000, seed: 1 }), {
    withLogs: true,
    rateLimit: DEFAULT_RATE_LIMIT,
  });
  const longResult = await long;

  const chainLength = scale(20, 5);
  log(`chain: ${chainLength} sequential 1 s blocks (pipeline executor, logs followed, default qps 20)`);
  const chain = await runChain(chainLength, 1000, DEFAULT_RATE_LIMIT);

  // Long enough for every block to be running once the last one is created.
  const concurrentMs = scale(45_000, 5000);
  const concurrentPlan = scriptPlan(scale(1000, 100), { minMs: concurrentMs, maxMs: concurrentMs, seed: 3 });
  log(`${concurrentPlan.length} concurrent blocks of ${concurrentMs / 1000} s (logs followed, qps 200)`);
  const concurrent = await runBlocks(concurrentPlan, { withLogs: true, rateLimit: { qps: 200, burst: 200 } });

  const manyPlan = manyBlocksPlan(scale(240_000, 20_000));
  const many = await runBlocks(manyPlan, { withLogs: false, rateLimit: MANY_RATE });
  // V8's memory-constrained mode: what docs/runtime.md advises for thousands of blocks in one process.
  const leanFlags = ['--optimize-for-size'];
  log(`the same ${manyPlan.length} blocks, the executor under node ${leanFlags.join(' ')}`);
  const manyLean = await runBlocks(manyPlan, { withLogs: false, rateLimit: MANY_RATE, nodeFlags: leanFlags });
  // Node's defaults where an orchestrator runs: a pod with a memory limit, which Node sizes V8's heap from.
  log(
    `the same ${manyPlan.length} blocks, the executor in a memory cgroup of ${POD_MEMORY_MIB} MiB (a pod's limit)`,
  );
  const manyPod = await inMemoryCgroup(POD_MEMORY_MIB, (cgroup) =>
    runBlocks(manyPlan, { withLogs: false, rateLimit: MANY_RATE, cgroup }),
  );

  const live = await liveHeapRun();

  const shape = { levels: scale(10, 5), width: scale(100, 20) };
  log(`DAG: ${shape.levels} levels x ${shape.width}, 2 upstreams each, 1-3 s blocks, qps 500`);
  const dag = await runDag({
    ...shape,
    fanIn: 2,
    minMs: 1000,
    maxMs: 3000,
    concurrency: shape.width,
    rateLimit: { qps: 500, burst: 500 },
    // The unavoidable per-block cost: one create round trip and one watch delivery.
    perBlockApiMs: roundTrip.p50 + latencyUnthrottled.detection.p50,
  });

  const coreMs = scale(6000, 1000);
  log(`pure core: resolve + name + build for ${coreMs / 1000} s`);
  const core = await measureCore(coreMs);

  const soakResult = await soak();
  const stealOverRun = stealShare(ticksAtStart, cpuTicks());

  const results: BenchResults = {
    machine: {
      ...machine,
      loadAverageAtEnd: loadavg().map((l) => Math.round(l * 100) / 100),
      ...(stealOverRun !== undefined ? { cpuStealShare: stealOverRun } : {}),
    },
    roundTrip,
    latency,
    latencyUnthrottled,
    requestsPerBlock: { short, long: longResult },
    chain,
    concurrent,
    many,
    manyLean,
    manyPod,
    live,
    dag,
    core,
  };
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  const file = QUICK ? 'bench/results/quick.json' : 'bench/results/latest.json';
  writeFileSync(join(ROOT, file), `${JSON.stringify({ ...results, soak: soakResult }, null, 2)}\n`);
  log(`wrote ${file}`);
  const numbers = `${renderNumbers(results)}\n\n${renderSoak(soakResult)}`;
  if (QUICK) {
    console.log(numbers);
    return;
  }

  const docPath = join(ROOT, 'docs/performance.md');
  const doc = readFileSync(docPath, 'utf8');
  const start = doc.indexOf(START);
  const end = doc.indexOf(END);
  if (start < 0 || end < start) throw new Error(`docs/performance.md has no ${START} ... ${END} section`);
  writeFileSync(docPath, `${doc.slice(0, start + START.length)}\n${numbers}\n${doc.slice(end)}`);
  log('updated docs/performance.md');
}

/** The client-side rate limit of the many-block scenarios (creating 10,000 blocks takes 50 s at best). */
const MANY_RATE = { qps: 200, burst: 200 };

/** The 10,000 concurrent blocks (1,000 with `--quick`) of `blockMs` each, no log sink; logged. */
function manyBlocksPlan(blockMs: number) {
  const plan = scriptPlan(scale(10_000, 1000), { minMs: blockMs, maxMs: blockMs, seed: 5 });
  log(`${plan.length} concurrent blocks of ${blockMs / 1000} s (no log sink, qps ${MANY_RATE.qps})`);
  return plan;
}

/** The memory a running block holds: the live heap (after a full GC) with 2,000 blocks running. */
function liveHeapRun() {
  const plan = scriptPlan(scale(2000, 200), { minMs: 30_000, maxMs: 30_000, seed: 6 });
  log(
    `${plan.length} concurrent blocks of 30 s (no log sink, qps ${MANY_RATE.qps}), live heap with all running`,
  );
  return runBlocks(plan, { withLogs: false, rateLimit: MANY_RATE, liveHeap: true });
}

/** The memory limit of the pod the 10,000 blocks are run in once: `resources.limits.memory: 1Gi`. */
const POD_MEMORY_MIB = 1024;

/**
 * Runs `measure` with a memory cgroup of `limitMiB` made for it, or says why none could be made or the run
 * failed in it (a worker killed at the limit, say): the rest of the bench goes on either way.
 */
async function inMemoryCgroup<T>(
  limitMiB: number,
  measure: (cgroup: { procsFile: string; limitMiB: number }) => Promise<T>,
): Promise<T | { skipped: string }> {
  const cgroup = createMemoryCgroup(limitMiB);
  if ('unavailable' in cgroup) {
    log(`  skipped: no memory cgroup can be made here (${cgroup.unavailable})`);
    return { skipped: `no memory cgroup could be made: ${cgroup.unavailable}` };
  }
  try {
    return await measure({ procsFile: cgroup.procsFile, limitMiB });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    log(`  failed in the memory cgroup: ${message}`);
    return { skipped: `the run in the memory cgroup failed: ${message}` };
  } finally {
    try {
      cgroup.remove();
    } catch (error) {
      log(`  the memory cgroup could not be removed (the next bench removes it): ${String(error)}`);
    }
  }
}

/**
 * The soak of a day's blocks (30,000; 3,000 with `--quick`; `--soak-blocks=N`, e.g. 100,000 for the
 * issue's full day, about 20 minutes alone on 2 cores and far longer on a loaded machine).
 */
function soak(): Promise<SoakOutcome> {
  const blocks = Number.isInteger(SOAK_BLOCKS) && SOAK_BLOCKS > 0 ? SOAK_BLOCKS : scale(30_000, 3000);
  log(`soak: ${blocks} short blocks, 50 at a time, logs followed, memory sampled after GC`);
  return runSoak({ blocks, concurrency: 50 });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
