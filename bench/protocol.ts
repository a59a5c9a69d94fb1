import type { ApiCallStats } from '../src/adapters/client-node/call-policy.js';
import type { ProjectTarget } from './workload.js';

/** One block of a generated workload: its uuid and the blocks it waits for. */
export interface WorkloadBlock {
  uuid: string;
  upstream: string[];
}

/** Client-side rate limit of the executor under test. */
export interface RateLimit {
  qps: number;
  burst: number;
}

/** What the parent asks a worker (the executor process) to do. */
export type WorkerTask =
  /** Sequential dry-run creates: the round-trip time of one API request. */
  | { kind: 'rtt'; kubeconfigPath: string; samples: number }
  /**
   * `count` independent blocks through one K8sBlockExecutor, all started at once; the first
   * `logBlocks` of them (all of them by default) with a log sink when `withLogs`.
   */
  | {
      kind: 'blocks';
      kubeconfigPath: string;
      count: number;
      withLogs: boolean;
      logBlocks?: number;
      rateLimit: RateLimit;
      /** A real cluster's namespace and pod annotations (default: the fake server's). */
      target?: ProjectTarget;
      /** Report the lines each block received (`BlockTiming.lines`). */
      keepLines?: boolean;
      /**
       * Measure the live heap (after a full GC) of the idle executor, after one block ran to its end
       * first (block run id `count`), and again once every block is running (the worker then runs with
       * `--expose-gc`; the GCs change the heap's later growth, so such a run's peak RSS is not reported).
       */
      liveHeap?: boolean;
      /** Node and V8 flags of the executor process (e.g. `--optimize-for-size`). */
      nodeFlags?: string[];
    }
  /** One DAG pipeline run through K8sPipelineExecutor (with a log sink when `withLogs`). */
  | {
      kind: 'dag';
      kubeconfigPath: string;
      blocks: WorkloadBlock[];
      concurrency: number;
      rateLimit: RateLimit;
      withLogs?: boolean;
      target?: ProjectTarget;
      /** @default 1 */
      pipelineRunId?: number;
      /**
       * How often the worker counts its sockets, ms (each count reads /proc for about half a
       * millisecond, which a scenario timing single milliseconds must not have in its way). @default 100
       */
      socketSampleMs?: number;
      /**
       * A fake API server on which the worker first runs a short chain of its own, before anything is
       * measured, so that the code on the path of a hand-off has run (and V8 compiled it) before the
       * measured run: what a long-running orchestrator is like after its first blocks.
       */
      warmUp?: { kubeconfigPath: string; blocks: WorkloadBlock[] };
    }
  /** The pure core (resolve + name + build), in a loop for `durationMs`. */
  | { kind: 'core'; durationMs: number };

/** How one block ended, as the executor saw it. Times are ms since the epoch (fractional). */
export interface BlockTiming {
  jobName: string;
  status: string;
  reason?: string;
  exitCode?: number;
  /** When the executor reported the final phase (the `succeeded`/`failed` event). */
  detectedAt?: number;
  /** When `execute()` returned (after cleanup). */
  resultAt?: number;
  /** When the executor first reported the block `running`. */
  runningAt?: number;
  /** Log lines received through `onLog` (when logs were followed). */
  logLines?: number;
  /** The lines themselves, when the task asked to keep them. */
  lines?: string[];
}

/** What a worker reports back. */
export interface WorkerReport {
  /** CPU time of the executor process during the task (user + system), ms. */
  cpuMs: number;
  /** Peak resident set size of the executor process, MiB. */
  maxRssMiB: number;
  /** RSS after loading the SDK, before the task, MiB. */
  baselineRssMiB: number;
  /** V8's heap size limit, MiB: what Node sized the heap to (from the machine's or the cgroup's memory). */
  heapLimitMiB: number;
  /** Wall time of the task, ms. */
  wallMs: number;
  /** The most sockets (TCP connections, from `/proc/self/fd`) the process held at once, sampled every 100 ms. */
  maxSockets: number;
  /** The adapter's own request counts. */
  apiCalls?: ApiCallStats;
  timings?: BlockTiming[];
  rttMs?: number[];
  /** DAG run: status and when the last block finished (ms since the epoch). */
  dag?: {
    status: string;
    startedAt: number;
    lastBlockFinishedAt: number;
    finishedAt: number;
    /** Log lines delivered to `onLog` (when logs were followed). */
    logLines?: number;
  };
  /** Core throughput. */
  core?: CoreThroughput;
  /** The live heap (after a full GC), MiB: of the idle executor, and with every block running. */
  liveHeapMiB?: { idle: number; allRunning: number | undefined };
}

/** The pure core's throughput (bench/core-loop.ts), one scenario each. */
export interface CoreThroughput {
  /** `prepareJob` over the 50 blocks of the workload, each run with its own block run id. */
  prepare: CoreRate;
  /** `resolveConfig` alone, the same way. */
  resolve: CoreRate;
  /** `prepareJob` when every run's templates render differently (`{{ block_run_id }}` in the command). */
  distinctRuns: CoreRate;
  /** The first `prepareJob` of each block of a newly loaded snapshot: nothing cached yet. */
  cold: CoreRate;
}

/** Calls made in one loop, and their rate. */
export interface CoreRate {
  calls: number;
  /** Per second of wall time. */
  perSecond: number;
  /**
   * Per second of this process's CPU time (user + system): the rate on one core whatever else the machine
   * runs (a little low, as the garbage collector's helper threads count too).
   */
  perCpuSecond: number;
}
