/**
 * `npm run bench`: measures the executor against the fake API server over HTTP on 127.0.0.1 (the real
 * client-node adapter path), writes `bench/results/latest.json`, and regenerates the numbers section
 * of `docs/performance.md`. See that file for the method.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, platform, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { renderNumbers } from './report.js';
import {
  DEFAULT_RATE_LIMIT,
  measureCore,
  measureRoundTrip,
  runBlocks,
  runDag,
} from './scenarios.js';
import { scriptPlan } from './workload.js';

const ROOT = process.cwd();
const START = '<!-- bench:numbers:start -->';
const END = '<!-- bench:numbers:end -->';

function log(message: string): void {
  console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}`);
}

async function main(): Promise<void> {
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

  // The 60 s blocks mostly wait: they run in the background while the short scenarios are measured.
  log('requests per block: 20 blocks of 60 s (background)');
  const long = runBlocks(scriptPlan(20, { minMs: 60_000, maxMs: 60_000, seed: 2 }), {
    withLogs: true,
    rateLimit: DEFAULT_RATE_LIMIT,
  });

  log('round trip: 200 sequential dry-run creates');
  const roundTrip = await measureRoundTrip(200);

  log('detection latency: 200 blocks of 1-4 s, 10 % exiting 3, logs followed, default rate limit');
  const latency = await runBlocks(scriptPlan(200, { minMs: 1000, maxMs: 4000, failShare: 0.1, seed: 7 }), {
    withLogs: true,
    rateLimit: DEFAULT_RATE_LIMIT,
  });

  log('requests per block: 20 blocks of 1 s');
  const short = await runBlocks(scriptPlan(20, { minMs: 1000, maxMs: 1000, seed: 1 }), {
    withLogs: true,
    rateLimit: DEFAULT_RATE_LIMIT,
  });
  const longResult = await long;

  log('1,000 concurrent blocks of 45 s (no log streams, qps 200)');
  const concurrent = await runBlocks(scriptPlan(1000, { minMs: 45_000, maxMs: 45_000, seed: 3 }), {
    withLogs: false,
    rateLimit: { qps: 200, burst: 200 },
  });

  log('1,000-block DAG: 10 levels x 100, 2 upstreams each, 1-3 s blocks, concurrency 100, qps 500');
  const dag = await runDag({
    levels: 10,
    width: 100,
    fanIn: 2,
    minMs: 1000,
    maxMs: 3000,
    concurrency: 100,
    rateLimit: { qps: 500, burst: 500 },
    perBlockApiMs: roundTrip.p50 + latency.detection.p50,
  });

  log('pure core: resolve + name + build for 6 s');
  const core = await measureCore(6000);

  const results = {
    machine: { ...machine, loadAverageAtEnd: loadavg().map((l) => Math.round(l * 100) / 100) },
    roundTrip,
    latency,
    requestsPerBlock: { short, long: longResult },
    concurrent,
    dag,
    core,
  };
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench/results/latest.json'), `${JSON.stringify(results, null, 2)}\n`);
  log('wrote bench/results/latest.json');

  const docPath = join(ROOT, 'docs/performance.md');
  const doc = readFileSync(docPath, 'utf8');
  const start = doc.indexOf(START);
  const end = doc.indexOf(END);
  if (start < 0 || end < start) throw new Error(`docs/performance.md has no ${START} ... ${END} section`);
  const numbers = renderNumbers(results);
  writeFileSync(docPath, `${doc.slice(0, start + START.length)}\n${numbers}\n${doc.slice(end)}`);
  log('updated docs/performance.md');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
