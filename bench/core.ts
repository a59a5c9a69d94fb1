/**
 * `npm run bench:core`: the pure core's throughput alone, exactly as `npm run bench` measures it (the same
 * worker process and loops, bench/core-loop.ts), in seconds instead of minutes. Prints the numbers with the
 * machine's load; writes nothing. `-- --duration <ms>` sets the measuring time (default 6000, as the bench).
 */
import { cpus, loadavg } from 'node:os';
import type { CoreRate } from './protocol.js';
import { CORE_TARGET_PER_SECOND, coreTargetMet } from './report.js';
import { measureCore } from './scenarios.js';

function durationOf(argv: readonly string[]): number {
  const at = argv.indexOf('--duration');
  const value = at >= 0 ? Number(argv[at + 1]) : 6000;
  if (!Number.isFinite(value) || value <= 0) throw new Error('--duration takes a number of milliseconds');
  return value;
}

async function main(): Promise<void> {
  const durationMs = durationOf(process.argv);
  const load = () =>
    loadavg()
      .map((l) => l.toFixed(2))
      .join(' ');
  console.log(`${cpus()[0]?.model ?? 'unknown'} x${cpus().length}, Node ${process.version}, load ${load()}`);
  const core = await measureCore(durationMs);
  const rows: [string, CoreRate][] = [
    ['prepareJob (the bench workload)', core.prepare],
    ['resolveConfig (the bench workload)', core.resolve],
    ['prepareJob, every run rendering differently', core.distinctRuns],
    ['prepareJob, cold (first run of each block)', core.cold],
  ];
  console.log(`${''.padEnd(46)} ${'/s CPU'.padStart(9)} ${'/s wall'.padStart(9)}`);
  for (const [what, rate] of rows) {
    const cells = [rate.perCpuSecond, rate.perSecond].map((n) => Math.round(n).toString().padStart(9));
    console.log(`${what.padEnd(46)} ${cells.join(' ')}`);
  }
  const met = coreTargetMet(core.prepare) ? 'met' : 'NOT met';
  console.log(`target ${CORE_TARGET_PER_SECOND} prepareJob/s on one core: ${met}; load at the end ${load()}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
