/**
 * `npm run bench:core`: the pure core's throughput alone, exactly as `npm run bench` measures it (the same
 * worker process and loop, bench/core-loop.ts), in seconds instead of minutes. Prints the numbers with the
 * machine's load; writes nothing. `-- --duration <ms>` sets the measuring time (default 6000, as the bench).
 */
import { cpus, loadavg } from 'node:os';
import { CORE_TARGET_PER_SECOND } from './report.js';
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
  const rows: [string, number][] = [
    ['prepareJob (the bench workload)', core.preparedPerSecond],
    ['resolveConfig (the bench workload)', core.resolvedPerSecond],
    ['prepareJob, every run rendering differently', core.distinctRunsPerSecond],
    ['prepareJob, cold (first run of each block)', core.coldPerSecond],
  ];
  for (const [what, perSecond] of rows)
    console.log(`${what.padEnd(46)} ${Math.round(perSecond).toString().padStart(8)} /s`);
  console.log(`CPU time / wall time while measuring: ${core.cpuShare.toFixed(2)}`);
  const met = core.preparedPerSecond >= CORE_TARGET_PER_SECOND;
  console.log(
    `target ${CORE_TARGET_PER_SECOND} prepareJob/s: ${met ? 'met' : 'NOT met'}; load at the end ${load()}`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
