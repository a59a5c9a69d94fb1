/**
 * The pure core in a loop, single-threaded: `prepareJob` (resolve the layered config, name the Job, build
 * it) and `resolveConfig` alone, over the 50 blocks of the bench workload. Run by the bench's worker
 * process (`npm run bench`, `npm run bench:core`); see docs/performance.md for the method.
 */
import { resolveConfig } from '../src/config/index.js';
import { prepareJob } from '../src/executor/prepare.js';
import type { ConfigSnapshot } from '../src/ports/config-source.js';
import { StaticConfigSource } from '../src/testing/static-config-source.js';
import type { RunIdentity } from '../src/types/run.js';
import { preciseNow as now } from '../test/support/fake-apiserver/final-condition-recorder.js';
import type { CoreRate, CoreThroughput } from './protocol.js';
import { independentBlocks, PIPELINE, projectFiles } from './workload.js';

/** The blocks of the workload. */
export const CORE_BLOCKS = 50;

/** A command whose template differs in every block run, so no two runs resolve alike. */
const PER_RUN_COMMAND = 'echo {{ block_uuid }} {{ block_run_id }}';

/** The workload's snapshot: what `ConfigSource.load` gives (reading and parsing is not the core's work). */
export function coreSnapshot(command?: string): Promise<ConfigSnapshot> {
  return new StaticConfigSource(projectFiles(independentBlocks(CORE_BLOCKS), command)).load(PIPELINE);
}

/** Run `i`: block `b<i % 50>`, block run id `i`, pipeline run 1. */
export function coreIdentity(i: number): RunIdentity {
  return {
    pipelineUuid: PIPELINE,
    pipelineRunId: '1',
    blockUuid: `b${i % CORE_BLOCKS}`,
    blockRunId: String(i),
    attempt: 1,
  };
}

/**
 * Measures, for `durationMs` in all (a quarter each, after a short warm-up):
 * - `prepareJob` over the 50 blocks, each block run with its own run id (what `npm run bench` reported
 *   before; the command template uses the block and the pipeline run, so runs of a block render alike);
 * - `resolveConfig` alone, the same way;
 * - `prepareJob` with `{{ block_run_id }}` in the command: every run renders differently;
 * - `prepareJob` cold: the first run of each block of a newly loaded snapshot (loading is not timed).
 */
export async function measureCoreThroughput(durationMs: number): Promise<CoreThroughput> {
  const snapshot = await coreSnapshot();
  const perRun = await coreSnapshot(PER_RUN_COMMAND);
  const quarter = durationMs / 4;
  const prepare = (s: ConfigSnapshot) => (i: number) =>
    prepareJob({ snapshot: s, mode: 'block', identity: coreIdentity(i) });
  timedLoop(Math.min(200, quarter / 4), prepare(snapshot));
  return {
    prepare: timedLoop(quarter, prepare(snapshot)),
    resolve: timedLoop(quarter, (i) => resolveConfig({ snapshot, mode: 'block', identity: coreIdentity(i) })),
    distinctRuns: timedLoop(quarter, prepare(perRun)),
    cold: await coldLoop(quarter),
  };
}

/** Calls `work(0)`, `work(1)`, ... for `ms`. */
function timedLoop(ms: number, work: (i: number) => unknown): CoreRate {
  const clock = startClocks();
  const end = now() + ms;
  let calls = 0;
  while (now() < end) work(calls++);
  return clock.rate(calls);
}

/** Snapshot after snapshot (loaded untimed), one `prepareJob` per block, until `ms` of them are timed. */
async function coldLoop(ms: number): Promise<CoreRate> {
  let wallMs = 0;
  let cpuMs = 0;
  let calls = 0;
  while (wallMs < ms) {
    const snapshot = await coreSnapshot();
    const clock = startClocks();
    for (let i = 0; i < CORE_BLOCKS; i++) prepareJob({ snapshot, mode: 'block', identity: coreIdentity(i) });
    wallMs += clock.wallMs();
    cpuMs += clock.cpuMs();
    calls += CORE_BLOCKS;
  }
  return { calls, perSecond: (calls * 1000) / wallMs, perCpuSecond: (calls * 1000) / cpuMs };
}

/** The wall clock and this process's CPU time (user + system) from now on, in ms. */
function startClocks() {
  const wall = now();
  const cpu = process.cpuUsage();
  const wallMs = () => now() - wall;
  const cpuMs = () => {
    const used = process.cpuUsage(cpu);
    return (used.user + used.system) / 1000;
  };
  return {
    wallMs,
    cpuMs,
    rate: (calls: number): CoreRate => ({
      calls,
      perSecond: (calls * 1000) / wallMs(),
      perCpuSecond: (calls * 1000) / cpuMs(),
    }),
  };
}
