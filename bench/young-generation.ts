/**
 * `npm run bench:v8`: what V8's young generation does to a Node process's RSS on this machine, with no
 * SDK at all. Each scenario builds 10,000 records at 200 records/s (the rate the 10,000-block scenario
 * creates Jobs at), each record `objects` small objects that stay alive, among short-lived garbage, in
 * a child process with Node's defaults (side by side: about a minute in all). It prints the live heap per record, the largest young
 * generation the process committed and its peak RSS. It backs the arithmetic of docs/performance.md
 * ("Many concurrent blocks"): the young generation doubles when the bytes surviving its scavenges
 * since it last grew exceed one semispace, so with the same garbage in every scenario, how much a
 * process keeps decides whether it commits 64 or 128 MiB. The young size printed is both semispaces
 * (`new_space` of `v8.getHeapSpaceStatistics()`); KiB per record includes the empty process's heap.
 * Writes nothing.
 */
import { execFile } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { promisify } from 'node:util';
import { getHeapSpaceStatistics } from 'node:v8';

const RECORDS = 10_000;
const PER_TICK = 20; // every 100 ms: 200 records/s
const SCENARIOS = [10, 20, 25, 35, 60];

interface Outcome {
  liveMiB: number;
  maxNewSpaceMiB: number;
  peakRssMiB: number;
}

/** The child: builds the records, samples the young generation and RSS every 50 ms. */
function child(objects: number): void {
  const kept: unknown[] = [];
  let peakRss = 0;
  let maxNewSpace = 0;
  const sample = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    const young = getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
    maxNewSpace = Math.max(maxNewSpace, young?.space_size ?? 0);
  }, 50);
  let made = 0;
  const tick = () => {
    for (let i = 0; i < PER_TICK; i++, made++) {
      // Garbage that dies young: a decoded event of about 3 KiB, 20 per record.
      for (let g = 0; g < 20; g++) JSON.parse(`{"a":"${'x'.repeat(3000)}${made}","b":[1,2,{"c":${g}}]}`);
      kept.push(
        Array.from({ length: objects }, (_, k) => ({ k, name: `block-${made}-${k}`, at: [made, k] })),
      );
    }
    if (made < RECORDS) {
      setTimeout(tick, 100);
      return;
    }
    setTimeout(() => {
      clearInterval(sample);
      (globalThis as { gc?: () => void }).gc?.();
      const outcome: Outcome = {
        liveMiB: process.memoryUsage().heapUsed / 2 ** 20,
        maxNewSpaceMiB: maxNewSpace / 2 ** 20,
        peakRssMiB: peakRss / 2 ** 20,
      };
      console.log(JSON.stringify({ outcome, kept: kept.length }));
    }, 2000);
  };
  tick();
}

/** One scenario in a child process of its own; the children mostly wait, so they run side by side. */
async function measure(objects: number): Promise<Outcome> {
  // --expose-gc only for the one full collection that measures the live heap at the end.
  const { stdout } = await promisify(execFile)(process.execPath, [
    '--expose-gc',
    process.argv[1] ?? '',
    '--child',
    String(objects),
  ]);
  return (JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as { outcome: Outcome }).outcome;
}

async function main(): Promise<void> {
  const load = () =>
    loadavg()
      .map((l) => l.toFixed(2))
      .join(' ');
  console.log(`${cpus()[0]?.model ?? 'unknown'} x${cpus().length}, Node ${process.version}, load ${load()}`);
  console.log(
    `${'objects kept per record'.padEnd(24)} ${'KiB/record'.padStart(10)} ${'live MiB'.padStart(9)} ${'young MiB'.padStart(9)} ${'peak RSS MiB'.padStart(12)}`,
  );
  const outcomes = await Promise.all(SCENARIOS.map(measure));
  for (const [i, outcome] of outcomes.entries()) {
    const objects = SCENARIOS[i] ?? 0;
    const cells = [
      String(objects).padEnd(24),
      ((outcome.liveMiB * 1024) / RECORDS).toFixed(2).padStart(10),
      outcome.liveMiB.toFixed(1).padStart(9),
      Math.round(outcome.maxNewSpaceMiB).toString().padStart(9),
      Math.round(outcome.peakRssMiB).toString().padStart(12),
    ];
    console.log(cells.join(' '));
  }
  console.log(`load at the end ${load()}`);
}

const at = process.argv.indexOf('--child');
if (at >= 0) child(Number(process.argv[at + 1]));
else await main();
