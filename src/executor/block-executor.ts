import { isK8sExecutorError } from '../errors/base.js';
import { wrapping } from '../errors/isolate-callback.js';
import { defaultMonitorPolicy } from '../monitor/reduce.js';
import type { MonitorPolicy } from '../monitor/types.js';
import { type HubEvent, WatchHubs } from '../monitor/watch-hub.js';
import { managedSelector } from '../naming/labels.js';
import { type Clock, systemClock } from '../ports/clock.js';
import type { ConfigSnapshot, ConfigSource } from '../ports/config-source.js';
import type { JobClient } from '../ports/job-client.js';
import type { PodIntrospector, ServerPod } from '../ports/pod-introspector.js';
import { LazyTelemetry } from '../telemetry/lazy-telemetry.js';
import type { AttemptTelemetry, Telemetry } from '../telemetry/telemetry.js';
import type { RunIdentity } from '../types/run.js';
import { type OptionKind, readCallOptions } from './call-options.js';
import { builtRun, type PlannedRun, type PreparedRun, planJob } from './prepare.js';
import {
  type JobBody,
  type JobRunnerDeps,
  type RunningJob,
  runPreparedJob,
  type SubmissionTurn,
} from './run-job.js';
import { SUBMISSIONS_IN_FLIGHT, SubmissionSlots } from './submission-slots.js';
import type {
  BlockDetection,
  BlockEvent,
  BlockResult,
  BlockRun,
  ExecuteOptions,
  PipelineJobRun,
} from './types.js';

/** The ports and settings of an executor. Only `configSource` and `jobClient` are required. */
export interface ExecutorOptions {
  /** Where config comes from (the default reads a Mage project directory). */
  configSource: ConfigSource;
  /** How Jobs are created and watched (a real cluster, the local backend, or the in-memory double). */
  jobClient: JobClient;
  /** Finds the server pod to inherit from; none = no inheritance. */
  podIntrospector?: PodIntrospector;
  /** Time. @default the system clock */
  clock?: Clock;
  /** The cluster id in Job names and labels. @default MAGE_CLUSTER_UUID, else `mage` */
  clusterId?: string;
  /** Timeouts and graces of the monitor (see docs/runtime.md). */
  monitorPolicy?: Partial<MonitorPolicy>;
  /** Log lines kept in each result. @default 50 */
  logTailLines?: number;
  /**
   * How long log streams may drain after a Job's final state was seen, for the last lines to arrive
   * (`onDetected` is called before it; a cancel or {@link K8sBlockExecutor.close} cuts it short).
   * @default 2000
   */
  logDrainMs?: number;
  /** Shared watches; pass one to share them between several executors. @default one per executor */
  watchHubs?: WatchHubs;
  /**
   * Where traces and metrics go (docs/telemetry.md): a {@link Telemetry} of your own, `false` for none, or by
   * default OpenTelemetry when `@opentelemetry/api` is installed (an optional peer dependency; the spans and
   * metrics go to the providers your application registers, and cost nothing without them).
   */
  telemetry?: Telemetry | false;
}

/**
 * Runs one block as a Kubernetes Job: resolves its config, names and builds the Job, creates it (or
 * adopts the Job a previous run of the same block already created), follows it through the executor's
 * shared watch to a final state with a precise reason, streams its log, and cleans up.
 *
 * The constructor does no IO.
 *
 * @example
 * const executor = new K8sBlockExecutor({ configSource, jobClient });
 * try {
 *   const result = await executor.execute({ pipelineUuid: 'etl', blockUuid: 'load', pipelineRunId: 7, blockRunId: 42 });
 *   if (result.status === 'failed') console.error(result.reason, result.message);
 * } finally {
 *   executor.close(); // the shared watches stay open 60 s after their last block otherwise (idleTimeoutMs)
 * }
 */
export class K8sBlockExecutor {
  private readonly deps: JobRunnerDeps;
  private readonly ownsHubs: boolean;
  /** Aborted by {@link K8sBlockExecutor.close}; a new one serves the runs after it. */
  private closing = new AbortController();
  private serverPod: Promise<ServerPod | undefined> | undefined;
  private readonly telemetry: LazyTelemetry;

  constructor(private readonly options: ExecutorOptions) {
    const clock = options.clock ?? systemClock;
    this.ownsHubs = !options.watchHubs;
    this.telemetry = new LazyTelemetry(options.telemetry);
    this.deps = {
      jobClient: options.jobClient,
      clock,
      hubs:
        options.watchHubs ??
        new WatchHubs({
          jobClient: options.jobClient,
          clock,
          labelSelector: managedSelector(),
          onHubEvent: reconnectsTo(this.telemetry),
        }),
      policy: { ...defaultMonitorPolicy, ...options.monitorPolicy },
      logTailLines: options.logTailLines ?? 50,
      logDrainMs: options.logDrainMs ?? 2000,
      submissions: new SubmissionSlots(SUBMISSIONS_IN_FLIGHT),
      closed: this.closing.signal,
    };
  }

  /**
   * Runs one block to its final state. A block that fails is a result (`status: 'failed'` with a
   * reason code), not an exception; cancelling through `signal` deletes the Job and returns
   * `status: 'cancelled'`.
   * @throws ConfigError (`CONFIG_INVALID`) before any API call when the config is invalid.
   * @throws K8sExecutorError `JOB_NAME_COLLISION` when a foreign Job has this run's name.
   * @throws ApiError when the API refuses the run (`API_FORBIDDEN`, `API_INVALID`, ...).
   * @throws K8sExecutorError `INVALID_ARGUMENT` when an option has the wrong type (nothing is run).
   */
  async execute(
    run: BlockRun,
    options: ExecuteOptions & { snapshot?: ConfigSnapshot } = {},
  ): Promise<BlockResult> {
    const call = readCallOptions('execute()', options, CALL_OPTION_KINDS);
    const { closed } = this.deps; // a close while the config loads still stops this run
    return this.queued(await this.planBlock(run, call.snapshot, call.signal), call, closed);
  }

  /** Runs a whole pipeline as one Job (Mage's pipeline executor); same contract as {@link K8sBlockExecutor.execute}. */
  async executePipelineJob(
    run: PipelineJobRun,
    options: ExecuteOptions & { snapshot?: ConfigSnapshot } = {},
  ): Promise<BlockResult> {
    const call = readCallOptions('executePipelineJob()', options, CALL_OPTION_KINDS);
    const { closed } = this.deps;
    return this.queued(await this.planPipeline(run, call.snapshot, call.signal), call, closed);
  }

  /**
   * Waits for a submission slot, then runs the planned Job. The wait is here, before the run's attempt
   * span and its chain of calls exist: a run waiting for its turn (thousands when as many blocks start
   * at once) holds only its planned Job and this promise. Not async on purpose: no suspended function
   * is kept per waiting run. A cancel or a close during the wait runs the Job without a slot, which
   * then ends before its create, as a run cancelled in its own submission does. `closed` is the
   * executor's close signal when the run began (before its config was loaded).
   */
  private queued(planned: PlannedRun, options: ExecuteOptions, closed: AbortSignal): Promise<BlockResult> {
    const { clock, submissions } = this.deps;
    const since = clock.now();
    const job = forRun(planned);
    return submissions.acquire(closed, options.signal).then(
      (slot) => this.traced(job, options, { closed, since, slot }),
      () => this.traced(job, options, { closed, since }),
    );
  }

  /**
   * Runs the prepared Job inside an attempt span: its phases, its detection latency and its outcome. Not
   * async on purpose: a running block keeps no suspended function of its own here, only the callbacks
   * (the telemetry's calls are guarded and never throw).
   */
  private traced(
    { running: prepared, body }: { running: RunningJob; body: JobBody },
    options: ExecuteOptions,
    turn: SubmissionTurn,
  ): Promise<BlockResult> {
    const telemetry = this.telemetry.deferred;
    const { clock } = this.deps;
    const { identity } = prepared;
    let span: AttemptTelemetry;
    try {
      span = telemetry.startAttempt(
        {
          pipelineUuid: identity.pipelineUuid,
          pipelineRunId: identity.pipelineRunId,
          ...(identity.blockUuid !== undefined ? { blockUuid: identity.blockUuid } : {}),
          attempt: identity.attempt ?? 1,
          jobName: prepared.jobName,
          namespace: prepared.namespace,
        },
        turn.since,
        options.telemetryParent,
      );
    } catch (error) {
      turn.slot?.(); // the run never reaches its submission: its slot goes back at once
      return Promise.reject(error);
    }
    const { onEvent, onDetected } = options;
    return runPreparedJob(
      this.deps,
      prepared,
      body,
      {
        ...options,
        onEvent: wrapping((event: BlockEvent) => {
          span.phase(event.type, event.at);
          return onEvent?.(event); // returned, so a rejected promise reaches the isolation below
        }, onEvent),
        onDetected: wrapping((detection: BlockDetection) => {
          const { finishedAt, finalConditionAt } = detection.timings;
          span.detected(finalConditionAt === undefined ? undefined : finishedAt - finalConditionAt);
          return onDetected?.(detection);
        }, onDetected),
      },
      turn,
    ).then(
      (result) => {
        span.end(
          {
            status: result.status,
            ...(result.reason ? { reason: result.reason } : {}),
            ...(result.exitCode !== undefined ? { exitCode: result.exitCode } : {}),
            ...(result.message ? { message: result.message } : {}),
          },
          clock.now(),
        );
        return result;
      },
      (error: unknown) => {
        span.end(
          {
            status: isK8sExecutorError(error) && error.code === 'CANCELLED' ? 'cancelled' : 'failed',
            reason: isK8sExecutorError(error) ? error.code : 'JOB_FAILED',
            message: error instanceof Error ? error.message : String(error),
          },
          clock.now(),
        );
        throw error;
      },
    );
  }

  /** Builds the Job a block run would create, without creating it (for `render` and `explain`). */
  async prepare(run: BlockRun, snapshot?: ConfigSnapshot, signal?: AbortSignal): Promise<PreparedRun> {
    return builtRun(await this.planBlock(run, snapshot, signal));
  }

  /** Builds the Job of a whole-pipeline run, without creating it. */
  async preparePipelineJob(
    run: PipelineJobRun,
    snapshot?: ConfigSnapshot,
    signal?: AbortSignal,
  ): Promise<PreparedRun> {
    return builtRun(await this.planPipeline(run, snapshot, signal));
  }

  /**
   * Stops the shared watches (when this executor created them). Runs still following their Job reject
   * with `CANCELLED` and leave it running; runs whose Job already ended stop their log drain at once and
   * resolve with their result.
   */
  close(): void {
    this.closing.abort();
    this.closing = new AbortController();
    this.deps.closed = this.closing.signal;
    if (this.ownsHubs) this.deps.hubs.close();
  }

  private planBlock(run: BlockRun, snapshot?: ConfigSnapshot, signal?: AbortSignal): Promise<PlannedRun> {
    const identity: RunIdentity = {
      pipelineUuid: run.pipelineUuid,
      pipelineRunId: String(run.pipelineRunId),
      blockUuid: run.blockUuid,
      blockRunId: String(run.blockRunId),
      attempt: run.attempt ?? 1,
      ...(run.triggerName !== undefined ? { triggerName: run.triggerName } : {}),
    };
    return this.plan('block', identity, run, snapshot, signal);
  }

  private planPipeline(
    run: PipelineJobRun,
    snapshot?: ConfigSnapshot,
    signal?: AbortSignal,
  ): Promise<PlannedRun> {
    const identity: RunIdentity = {
      pipelineUuid: run.pipelineUuid,
      pipelineRunId: String(run.pipelineRunId),
      attempt: run.attempt ?? 1,
      ...(run.triggerName !== undefined ? { triggerName: run.triggerName } : {}),
    };
    return this.plan('pipeline', identity, run, snapshot, signal);
  }

  private async plan(
    mode: 'block' | 'pipeline',
    identity: RunIdentity,
    run: Pick<BlockRun, 'variables' | 'command' | 'args' | 'overrides' | 'blockOverrides'>,
    snapshot: ConfigSnapshot | undefined,
    signal: AbortSignal | undefined,
  ): Promise<PlannedRun> {
    const [loaded, serverPod] = await Promise.all([
      snapshot ?? this.options.configSource.load(identity.pipelineUuid, signal),
      this.currentServerPod(signal),
    ]);
    return planJob({
      snapshot: loaded,
      mode,
      identity,
      ...(run.variables ? { variables: run.variables } : {}),
      ...(serverPod ? { serverPod } : {}),
      ...(this.options.clusterId ? { clusterId: this.options.clusterId } : {}),
      ...(run.command ? { command: run.command } : {}),
      ...(run.args ? { args: run.args } : {}),
      ...(run.overrides ? { overrides: run.overrides } : {}),
      ...(run.blockOverrides ? { blockOverrides: run.blockOverrides } : {}),
    });
  }

  /**
   * The server pod is read once per executor: it does not change while this process lives. Only a
   * found pod is kept (a failed lookup is tried again by the next run), and the shared lookup does not
   * take any one caller's signal: each caller stops waiting on its own.
   */
  private currentServerPod(signal?: AbortSignal): Promise<ServerPod | undefined> {
    const introspector = this.options.podIntrospector;
    if (!introspector) return Promise.resolve(undefined);
    this.serverPod ??= introspector.currentPod().catch((error: unknown) => {
      this.serverPod = undefined;
      throw error;
    });
    return signal ? abortable(this.serverPod, signal) : this.serverPod;
  }
}

/** `promise`, or a rejection with `signal.reason` as soon as the signal aborts (the work itself goes on). */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** A hub's diagnostics as telemetry: each reconnect of a shared watch is counted. */
export function reconnectsTo(telemetry: LazyTelemetry): (event: HubEvent) => void {
  return (event) => {
    if (event.type === 'reconnect-wait') telemetry.deferred.recordWatchReconnect(event.resource);
  };
}

/**
 * What a running Job keeps of its preparation: not the provenance of its config, nor its Job's body,
 * which is built when its create is sent and let go once it is answered (a few KiB each, times every
 * block waiting or running at once).
 */
function forRun({ resolved, build, ...job }: PlannedRun): { running: RunningJob; body: JobBody } {
  const ttlSet = resolved.config.job?.ttlSecondsAfterFinished !== undefined;
  return { running: { ...job, ttlSet }, body: { build } };
}

type CallOptions = ExecuteOptions & { snapshot?: ConfigSnapshot };

/** What each option of a call must be (a `Record` of all keys: an option added to the type and not here fails to compile). */
const CALL_OPTION_KINDS = {
  snapshot: 'object',
  signal: 'signal',
  onEvent: 'function',
  onLog: 'function',
  onDetected: 'function',
  telemetryParent: 'object',
  keepJob: 'boolean',
} as const satisfies Record<keyof CallOptions, OptionKind>;
