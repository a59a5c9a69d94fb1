/**
 * The executor process of the benchmark: it runs one task against the fake API server (whose process is
 * the parent) through the real client-node adapter, and reports timings, API counts, its own CPU time
 * and peak RSS. Keeping the executor alone in its process is what makes CPU and memory attributable.
 */
import { appendFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { getHeapSpaceStatistics, getHeapStatistics, writeHeapSnapshot } from 'node:v8';
import { createClientNodeAdapters } from '../src/adapters/client-node/index.js';
import { K8sBlockExecutor } from '../src/executor/block-executor.js';
import { K8sPipelineExecutor } from '../src/executor/pipeline-executor.js';
import type { LogLine } from '../src/executor/types.js';
import { StaticConfigSource } from '../src/testing/static-config-source.js';
import type { Job } from '../src/types/kube.js';
import { preciseNow as now } from '../test/support/fake-apiserver/final-condition-recorder.js';
import { measureCoreThroughput } from './core-loop.js';
import type { BlockTiming, WorkerReport, WorkerTask } from './protocol.js';
import { independentBlocks, PIPELINE, projectFiles } from './workload.js';

const MIB = 1024 * 1024;

process.once('message', (task: WorkerTask) => {
  run(task).then(
    (report) => process.send?.(report, () => process.exit(0)),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
});

async function run(task: WorkerTask): Promise<WorkerReport> {
  if (task.kind === 'dag' && task.warmUp) {
    const { warmUp, ...measured } = task;
    await dag({ ...measured, ...warmUp });
  }
  const baselineRssMiB = process.memoryUsage().rss / MIB;
  const cpu = process.cpuUsage();
  const started = now();
  let maxSockets = openSockets();
  const sampler = setInterval(
    () => {
      maxSockets = Math.max(maxSockets, openSockets());
    },
    (task.kind === 'dag' ? task.socketSampleMs : undefined) ?? 100,
  );
  const timeline = memoryTimeline(process.env.K8S_BENCH_TIMELINE, started);
  heapProfile(process.env.K8S_BENCH_HEAP_PROFILE);

  const partial = await runTask(task);
  clearInterval(sampler);
  clearInterval(timeline);
  const used = process.cpuUsage(cpu);
  return {
    ...partial,
    cpuMs: (used.user + used.system) / 1000,
    wallMs: now() - started,
    maxSockets,
    baselineRssMiB,
    heapLimitMiB: getHeapStatistics().heap_size_limit / MIB,
    // resourceUsage().maxRSS is in KiB.
    maxRssMiB: process.resourceUsage().maxRSS / 1024,
  };
}

/**
 * With `K8S_BENCH_TIMELINE=file`: every second, a line of RSS and V8's heap spaces (committed/used MiB),
 * to see when and where the peak builds up.
 */
function memoryTimeline(file: string | undefined, started: number): NodeJS.Timeout | undefined {
  if (!file) return undefined;
  const mib = (n: number) => Math.round(n / MIB);
  return setInterval(() => {
    const spaces = getHeapSpaceStatistics()
      .filter((s) => s.space_size > 0)
      .map((s) => `${s.space_name.replace('_space', '')}=${mib(s.space_size)}/${mib(s.space_used_size)}`);
    const { rss, external } = process.memoryUsage();
    appendFileSync(
      file,
      `${Math.round((now() - started) / 1000)}s rss=${mib(rss)} ext=${mib(external)} ${spaces.join(' ')}\n`,
    );
  }, 1000).unref();
}

/**
 * With `K8S_BENCH_HEAP_PROFILE=from:to:file`: a sampling heap profile (open it in Chrome's DevTools) of
 * what is allocated between `from` and `to` seconds and either still live or freed by a full
 * collection, not by a scavenge: where long-lived garbage comes from (this is how the connection every
 * delete closed was found, 2026-12-04). A full collection frees the young generation's garbage too, so
 * that part is in the profile as well.
 */
function heapProfile(spec: string | undefined): void {
  if (!spec) return;
  const [from, to, file] = spec.split(':');
  if (!file) throw new Error('K8S_BENCH_HEAP_PROFILE takes from:to:file (seconds, seconds, a path)');
  const session = new Session();
  session.connect();
  setTimeout(() => {
    session.post('HeapProfiler.startSampling', {
      samplingInterval: 16_384,
      includeObjectsCollectedByMajorGC: true,
    });
    setTimeout(
      () => {
        session.post('HeapProfiler.stopSampling', (error, reply) => {
          if (error) console.error(`the heap profile failed: ${error.message}`);
          else writeFileSync(file, JSON.stringify(reply.profile));
        });
      },
      (Number(to) - Number(from)) * 1000,
    ).unref();
  }, Number(from) * 1000).unref();
}

type TaskResult = Omit<
  WorkerReport,
  'cpuMs' | 'wallMs' | 'baselineRssMiB' | 'heapLimitMiB' | 'maxRssMiB' | 'maxSockets'
>;

/** The sockets this process holds now (its file descriptors that are sockets; 0 where /proc is missing). */
function openSockets(): number {
  try {
    return readdirSync('/proc/self/fd').filter((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`).startsWith('socket:');
      } catch {
        return false; // closed meanwhile
      }
    }).length;
  } catch {
    return 0;
  }
}

async function runTask(task: WorkerTask): Promise<TaskResult> {
  switch (task.kind) {
    case 'rtt':
      return roundTrips(task);
    case 'blocks':
      return blocks(task);
    case 'dag':
      return dag(task);
    case 'core':
      return core(task);
  }
}

/** Sequential dry-run creates: one full API round trip each (rate limit off). */
async function roundTrips(task: Extract<WorkerTask, { kind: 'rtt' }>): Promise<TaskResult> {
  const adapters = createClientNodeAdapters({
    kubeconfigPath: task.kubeconfigPath,
    qps: 10_000,
    burst: 10_000,
  });
  const job: Job = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: 'rtt-probe' },
    spec: {
      template: { spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox' }] } },
    },
  };
  const rttMs: number[] = [];
  for (let i = 0; i < task.samples; i++) {
    const t0 = now();
    await adapters.jobClient.createJob('bench', job, { dryRun: true });
    rttMs.push(now() - t0);
  }
  return { rttMs, apiCalls: adapters.apiCalls() };
}

/** Independent blocks, all started at once through one block executor (one shared watch). */
async function blocks(task: Extract<WorkerTask, { kind: 'blocks' }>): Promise<TaskResult> {
  const adapters = createClientNodeAdapters({ kubeconfigPath: task.kubeconfigPath, ...task.rateLimit });
  const source = new StaticConfigSource(projectFiles(independentBlocks(task.count), undefined, task.target));
  const snapshot = await source.load(PIPELINE);
  const executor = new K8sBlockExecutor({ configSource: source, jobClient: adapters.jobClient });
  const logBlocks = task.withLogs ? (task.logBlocks ?? task.count) : 0;
  // A first block run to its end, so that what every run shares (compiled code, connections, the hub's
  // watches and caches, kept 60 s) is in the idle figure and not counted per block.
  if (task.liveHeap) {
    await executor.execute(
      { pipelineUuid: PIPELINE, blockUuid: 'b0', pipelineRunId: 1, blockRunId: task.count },
      { snapshot },
    );
  }
  const live = task.liveHeap ? liveHeap(task.count) : undefined;
  const timings = await Promise.all(
    Array.from({ length: task.count }, async (_, i): Promise<BlockTiming> => {
      let detectedAt: number | undefined;
      let runningAt: number | undefined;
      let logLines = 0;
      const lines: string[] = [];
      const execution = executor.execute(
        { pipelineUuid: PIPELINE, blockUuid: `b${i}`, pipelineRunId: 1, blockRunId: i },
        {
          snapshot,
          onEvent: (event) => {
            if (event.type === 'running' && runningAt === undefined) live?.running();
            if (event.type === 'running') runningAt ??= now();
            if (event.type === 'succeeded' || event.type === 'failed') detectedAt ??= now();
          },
          ...(i < logBlocks
            ? {
                onLog: (line: LogLine) => {
                  logLines++;
                  if (task.keepLines) lines.push(line.line);
                },
              }
            : {}),
        },
      );
      // A block whose execute() rejects (its create gave up, say) is a wrong result, not the end of the run.
      const result = await execution.catch(
        (error: { code?: string; operation?: { name?: string } }) => error,
      );
      if (!('status' in result)) {
        return {
          jobName: result.operation?.name ?? `b${i}`,
          status: 'rejected',
          reason: result.code ?? String(result),
          resultAt: now(),
        };
      }
      return {
        jobName: result.jobName,
        status: result.status,
        ...(result.reason ? { reason: result.reason } : {}),
        ...(result.exitCode !== undefined ? { exitCode: result.exitCode } : {}),
        ...(detectedAt !== undefined ? { detectedAt } : {}),
        ...(runningAt !== undefined ? { runningAt } : {}),
        resultAt: now(),
        ...(i < logBlocks ? { logLines } : {}),
        ...(task.keepLines ? { lines } : {}),
      };
    }),
  );
  executor.close();
  return {
    timings,
    apiCalls: adapters.apiCalls(),
    ...(live ? { liveHeapMiB: { idle: live.idle, allRunning: live.allRunning() } } : {}),
  };
}

/**
 * The live heap (after a full GC) now, and once `count` blocks have reported `running` (measured on a
 * timer turn of its own, not inside the event). Needs `--expose-gc`. With `K8S_BENCH_SNAPSHOTS=dir`, a
 * heap snapshot is written at both moments (`idle.heapsnapshot`, `running.heapsnapshot`), to see what a
 * running block holds.
 */
function liveHeap(count: number): { idle: number; running(): void; allRunning(): number | undefined } {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('the live heap needs the worker to run with --expose-gc');
  const heapMiB = () => {
    gc();
    return process.memoryUsage().heapUsed / MIB;
  };
  const snapshots = process.env.K8S_BENCH_SNAPSHOTS;
  const snapshot = (name: string) => snapshots && writeHeapSnapshot(`${snapshots}/${name}.heapsnapshot`);
  const idle = heapMiB();
  snapshot('idle');
  let running = 0;
  let allRunning: number | undefined;
  return {
    idle,
    running: () => {
      if (++running === count)
        setImmediate(() => {
          allRunning = heapMiB();
          snapshot('running');
        });
    },
    allRunning: () => allRunning,
  };
}

/** One DAG run of the pipeline executor. */
async function dag(task: Extract<WorkerTask, { kind: 'dag' }>): Promise<TaskResult> {
  const adapters = createClientNodeAdapters({ kubeconfigPath: task.kubeconfigPath, ...task.rateLimit });
  const executor = new K8sPipelineExecutor({
    configSource: new StaticConfigSource(projectFiles(task.blocks, undefined, task.target)),
    jobClient: adapters.jobClient,
    concurrency: task.concurrency,
  });
  const detected = new Map<string, number>();
  let logLines = 0;
  const result = await executor.run(
    { pipelineUuid: PIPELINE, pipelineRunId: task.pipelineRunId ?? 1 },
    {
      ...(task.withLogs
        ? {
            onLog: () => {
              logLines++;
            },
          }
        : {}),
      onEvent: (event) => {
        if (event.type !== 'block-event') return;
        const { type, jobName } = event.event;
        if ((type === 'succeeded' || type === 'failed') && !detected.has(jobName))
          detected.set(jobName, now());
      },
    },
  );
  executor.close();
  const timings: BlockTiming[] = [...detected].map(([jobName, detectedAt]) => ({
    jobName,
    status: 'final',
    detectedAt,
  }));
  return {
    timings,
    apiCalls: adapters.apiCalls(),
    dag: {
      status: result.status,
      ...(task.withLogs ? { logLines } : {}),
      startedAt: result.startedAt,
      lastBlockFinishedAt: Math.max(...result.blocks.map((b) => b.finishedAt ?? 0)),
      finishedAt: result.finishedAt,
    },
  };
}

/** The pure core in a loop (bench/core-loop.ts). */
async function core(task: Extract<WorkerTask, { kind: 'core' }>): Promise<TaskResult> {
  return { core: await measureCoreThroughput(task.durationMs) };
}
