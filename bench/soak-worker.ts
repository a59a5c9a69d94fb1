/**
 * The executor process of the soak (`bench/soak.ts`): runs many short blocks, a fixed number at a time,
 * through one block executor over the real client-node adapter, and samples its memory as it goes
 * (heap after a full GC: started with `--expose-gc`). Reports the samples and the results' tally.
 */
import { createClientNodeAdapters } from '../src/adapters/client-node/index.js';
import { K8sBlockExecutor } from '../src/executor/block-executor.js';
import { WatchHubs } from '../src/monitor/watch-hub.js';
import { managedSelector } from '../src/naming/labels.js';
import { systemClock } from '../src/ports/clock.js';
import { StaticConfigSource } from '../src/testing/static-config-source.js';
import { preciseNow as now } from '../test/support/fake-apiserver/final-condition-recorder.js';
import { independentBlocks, PIPELINE, projectFiles } from './workload.js';

/** What the parent asks. */
export interface SoakTask {
  kubeconfigPath: string;
  /** Blocks in all. */
  blocks: number;
  /** Blocks running at once. */
  concurrency: number;
  /** A memory sample every this many finished blocks. */
  sampleEvery: number;
}

/** One memory sample, after a full GC. */
export interface SoakSample {
  /** Blocks finished when it was taken. */
  blocks: number;
  /** ms since the start. */
  atMs: number;
  rssMiB: number;
  heapUsedMiB: number;
  externalMiB: number;
  /** What the hub held: subscribed Jobs, cached Jobs and pods. */
  hub: { subscribedJobs: number; cachedJobs: number; cachedPods: number };
}

/** What the worker reports. */
export interface SoakReport {
  samples: SoakSample[];
  succeeded: number;
  /** Blocks that did not succeed (every block is scripted to succeed), with the first few reasons. */
  other: number;
  otherExamples: string[];
  logLines: number;
  requests: number;
  wallMs: number;
  cpuMs: number;
  maxRssMiB: number;
  baselineRssMiB: number;
}

const MIB = 1024 * 1024;

process.once('message', (task: SoakTask) => {
  soak(task).then(
    (report) => process.send?.(report, () => process.exit(0)),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
});

async function soak(task: SoakTask): Promise<SoakReport> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('the soak worker needs --expose-gc');
  const baselineRssMiB = process.memoryUsage().rss / MIB;
  const cpu = process.cpuUsage();
  const started = now();
  // The rate limit out of the way: the soak is about memory, not about the client-side limit.
  const adapters = createClientNodeAdapters({ kubeconfigPath: task.kubeconfigPath, qps: 5000, burst: 5000 });
  const watchHubs = new WatchHubs({
    jobClient: adapters.jobClient,
    clock: systemClock,
    labelSelector: managedSelector(),
  });
  const source = new StaticConfigSource(projectFiles(independentBlocks(1)));
  const snapshot = await source.load(PIPELINE);
  const executor = new K8sBlockExecutor({
    configSource: source,
    jobClient: adapters.jobClient,
    watchHubs,
    logDrainMs: 200,
  });
  const hub = watchHubs.hub('bench');
  const samples: SoakSample[] = [];
  const sample = (blocks: number) => {
    gc();
    const m = process.memoryUsage();
    const { subscribedJobs, cachedJobs, cachedPods } = hub.sizes;
    samples.push({
      blocks,
      atMs: now() - started,
      rssMiB: m.rss / MIB,
      heapUsedMiB: m.heapUsed / MIB,
      externalMiB: m.external / MIB,
      hub: { subscribedJobs, cachedJobs, cachedPods },
    });
  };

  let next = 0;
  let finished = 0;
  let succeeded = 0;
  let logLines = 0;
  const otherExamples: string[] = [];
  sample(0);
  const lane = async () => {
    while (next < task.blocks) {
      const id = next++;
      const result = await executor.execute(
        { pipelineUuid: PIPELINE, blockUuid: 'b0', pipelineRunId: 1, blockRunId: id },
        {
          snapshot,
          onLog: () => {
            logLines++;
          },
        },
      );
      if (result.status === 'succeeded') succeeded++;
      else if (otherExamples.length < 5)
        otherExamples.push(`${result.jobName}: ${result.status} ${result.reason ?? ''}`);
      finished++;
      if (finished % task.sampleEvery === 0) sample(finished);
    }
  };
  await Promise.all(Array.from({ length: task.concurrency }, lane));
  // The last deletes reach the watches within moments.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  sample(finished);
  executor.close();
  watchHubs.close();
  const used = process.cpuUsage(cpu);
  return {
    samples,
    succeeded,
    other: finished - succeeded,
    otherExamples,
    logLines,
    requests: adapters.apiCalls().requests,
    wallMs: now() - started,
    cpuMs: (used.user + used.system) / 1000,
    maxRssMiB: process.resourceUsage().maxRSS / 1024,
    baselineRssMiB,
  };
}
