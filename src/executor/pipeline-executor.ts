import {
  type BlockDefinition,
  type PipelineDefinition,
  type RetryConfig,
  readPipeline,
} from '../config/index.js';
import { isK8sExecutorError } from '../errors/base.js';
import { IDENTITY_KEYS, managedSelector, toLabelValue } from '../naming/labels.js';
import { type Clock, systemClock } from '../ports/clock.js';
import type { ConfigSnapshot } from '../ports/config-source.js';
import type { Job } from '../types/kube.js';
import { type ExecutorOptions, K8sBlockExecutor } from './block-executor.js';
import type {
  AttemptRecord,
  BlockOutcome,
  BlockRunStatus,
  LocalBlockRunner,
  PipelineResult,
  PipelineRun,
  PipelineRunOptions,
} from './pipeline-types.js';
import { clusterIdOf } from './prepare.js';
import { retryDelayMs } from './retry-delay.js';
import type { BlockResult, WarningEvent } from './types.js';

/** Settings of a pipeline executor, on top of the block executor's ports. */
export interface PipelineExecutorOptions extends ExecutorOptions {
  /** `dag`: one Job per block, in dependency order; `single-job`: the whole pipeline as one Job. @default 'dag' */
  mode?: 'dag' | 'single-job';
  /** How many blocks may run at once. @default 4 */
  concurrency?: number;
  /** Runs blocks whose executor type is not `k8s`. Without one, such blocks fail with a clear message. */
  localRunner?: LocalBlockRunner;
  /** Keep every Job after the run (for debugging). @default false */
  keepJobs?: boolean;
  /** Executor types run as Jobs. @default ['k8s'] */
  k8sExecutorTypes?: readonly string[];
}

const NO_RETRY: RetryConfig = { retries: 0, delaySeconds: 0, maxDelaySeconds: 0, exponentialBackoff: false };

/**
 * Runs a whole pipeline: as one Job (`single-job`, Mage's pipeline executor), or block by block as a
 * DAG of Jobs (`dag`) with a concurrency limit, Mage `retry_config` retries (the attempt number is in
 * the Job name), downstream blocks skipped when an upstream fails for good while independent branches
 * go on, and resume: running the same pipeline run again adopts the Jobs that already exist and skips
 * the blocks that already succeeded, creating no duplicate Job.
 *
 * Jobs of a DAG run are kept until the run ends (that is what a resumed run reads), then deleted.
 */
export class K8sPipelineExecutor {
  private readonly blocks: K8sBlockExecutor;
  private readonly clock: Clock;

  constructor(private readonly options: PipelineExecutorOptions) {
    this.blocks = new K8sBlockExecutor(options);
    this.clock = options.clock ?? systemClock;
  }

  /**
   * Runs the pipeline to its end. Block failures are in the result; config problems (a cycle, an
   * unknown upstream, an invalid block config) throw before any Job is created.
   * @throws ConfigError (`CONFIG_INVALID`)
   */
  async run(run: PipelineRun, options: PipelineRunOptions = {}): Promise<PipelineResult> {
    const snapshot = await this.options.configSource.load(run.pipelineUuid, options.signal);
    const pipeline = readPipeline(snapshot);
    if ((this.options.mode ?? 'dag') === 'single-job')
      return this.runSingleJob(run, pipeline, snapshot, options);
    return new DagRun(this, run, pipeline, snapshot, options).execute();
  }

  /** Stops the shared watches. */
  close(): void {
    this.blocks.close();
  }

  /** @internal the pieces a DAG run needs. */
  get internals() {
    return { blocks: this.blocks, clock: this.clock, options: this.options };
  }

  private async runSingleJob(
    run: PipelineRun,
    pipeline: PipelineDefinition,
    snapshot: ConfigSnapshot,
    options: PipelineRunOptions,
  ): Promise<PipelineResult> {
    const startedAt = this.clock.now();
    const result = await this.blocks.executePipelineJob(
      {
        pipelineUuid: run.pipelineUuid,
        pipelineRunId: run.pipelineRunId,
        ...(run.triggerName !== undefined ? { triggerName: run.triggerName } : {}),
        ...(run.variables ? { variables: run.variables } : {}),
      },
      {
        snapshot,
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.onLog ? { onLog: (line) => options.onLog?.(pipeline.uuid, line) } : {}),
        onEvent: (event) => options.onEvent?.({ type: 'block-event', blockUuid: pipeline.uuid, event }),
        keepJob: this.options.keepJobs ?? false,
      },
    );
    const outcome: BlockOutcome = {
      uuid: pipeline.uuid,
      executor: 'k8s',
      status: result.status,
      ...(result.reason ? { reason: result.reason } : {}),
      ...(result.message ? { message: result.message } : {}),
      attempts: [attemptOf(1, result)],
      lastLogLines: result.lastLogLines,
      warningEvents: result.warningEvents,
      startedAt: result.timings.submittedAt,
      finishedAt: result.timings.finishedAt,
    };
    return {
      status: result.status,
      pipelineUuid: run.pipelineUuid,
      pipelineRunId: String(run.pipelineRunId),
      mode: 'single-job',
      blocks: [outcome],
      startedAt,
      finishedAt: this.clock.now(),
    };
  }
}

function attemptOf(attempt: number, result: BlockResult): AttemptRecord {
  return {
    attempt,
    jobName: result.jobName,
    status: result.status,
    ...(result.reason ? { reason: result.reason } : {}),
    ...(result.message ? { message: result.message } : {}),
    ...(result.exitCode !== undefined ? { exitCode: result.exitCode } : {}),
    ...(result.adopted ? { adopted: true } : {}),
    startedAt: result.timings.submittedAt,
    ...(result.timings.startedAt !== undefined ? { runningAt: result.timings.startedAt } : {}),
    finishedAt: result.timings.finishedAt,
  };
}

/** What an earlier run of the same pipeline run left behind for one block. */
interface EarlierAttempt {
  attempt: number;
  state: 'succeeded' | 'failed' | 'active';
  jobName: string;
}

/** The mutable bookkeeping of one DAG run; the executor itself stays stateless between runs. */
class DagRun {
  private readonly outcomes = new Map<string, BlockOutcome>();
  private readonly statuses = new Map<string, BlockRunStatus>();
  private readonly nextAttempt = new Map<string, number>();
  private readonly ready: string[] = [];
  private readonly delayed = new Set<string>();
  private running = 0;
  private readonly abort = new AbortController();
  /** Every namespace this run's Jobs live in (for resume and cleanup). */
  private readonly namespaces = new Set<string>();
  private readonly clusterId: string;
  private wake: (() => void) | undefined;
  private readonly byUuid: Map<string, BlockDefinition>;
  private readonly k8sTypes: ReadonlySet<string>;

  constructor(
    private readonly executor: K8sPipelineExecutor,
    private readonly request: PipelineRun,
    private readonly pipeline: PipelineDefinition,
    private readonly snapshot: ConfigSnapshot,
    private readonly options: PipelineRunOptions,
  ) {
    const { options: executorOptions } = executor.internals;
    this.clusterId = clusterIdOf(snapshot, executorOptions.clusterId);
    this.byUuid = new Map(pipeline.blocks.map((b) => [b.uuid, b]));
    this.k8sTypes = new Set((executorOptions.k8sExecutorTypes ?? ['k8s']).map((t) => t.toLowerCase()));
  }

  private get clock(): Clock {
    return this.executor.internals.clock;
  }

  async execute(): Promise<PipelineResult> {
    const startedAt = this.clock.now();
    const { signal } = this.options;
    const onAbort = () => this.abort.abort(signal?.reason);
    if (signal?.aborted) onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      // Cancelled before it began: no Job is created, every block ends cancelled by the loop below.
      const earlier = await this.earlierAttempts().catch((error: unknown) => {
        if (this.abort.signal.aborted) return new Map<string, EarlierAttempt[]>();
        throw error;
      });
      for (const block of this.pipeline.blocks) this.restore(block, earlier.get(block.uuid) ?? []);
      this.skipBlockedDownstream();
      this.enqueueReady();
      await this.loop();
      await this.cleanup();
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
    const blocks = this.pipeline.blocks.map((b) => this.outcomes.get(b.uuid)!);
    const status = blocks.some((b) => b.status === 'cancelled')
      ? 'cancelled'
      : blocks.every((b) => b.status === 'succeeded')
        ? 'succeeded'
        : 'failed';
    return {
      status,
      pipelineUuid: this.request.pipelineUuid,
      pipelineRunId: String(this.request.pipelineRunId),
      mode: 'dag',
      blocks,
      startedAt,
      finishedAt: this.clock.now(),
    };
  }

  /** The loop: start ready blocks up to the concurrency limit; wait until something changes; repeat. */
  private async loop(): Promise<void> {
    const concurrency = Math.max(1, this.executor.internals.options.concurrency ?? 4);
    const tasks = new Set<Promise<void>>();
    for (;;) {
      if (this.abort.signal.aborted) this.cancelWaiting();
      while (!this.abort.signal.aborted && this.running < concurrency && this.ready.length > 0) {
        const uuid = this.ready.shift()!;
        const task = this.runBlock(uuid).finally(() => {
          tasks.delete(task);
          this.poke();
        });
        tasks.add(task);
      }
      if (
        tasks.size === 0 &&
        this.delayed.size === 0 &&
        (this.ready.length === 0 || this.abort.signal.aborted)
      )
        break;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }

  private poke(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private async runBlock(uuid: string): Promise<void> {
    const block = this.byUuid.get(uuid)!;
    const attempt = this.nextAttempt.get(uuid) ?? 1;
    this.running++;
    const outcome = this.outcomes.get(uuid)!;
    outcome.startedAt ??= this.clock.now();
    this.setStatus(uuid, 'submitted', attempt);
    let record: AttemptRecord;
    let lastLines: string[] = [];
    let warnings: WarningEvent[] = [];
    try {
      if (this.isK8s(block)) {
        const result = await this.executeK8s(block, attempt);
        record = attemptOf(attempt, result);
        this.namespaces.add(result.namespace);
        lastLines = result.lastLogLines;
        warnings = result.warningEvents;
      } else {
        record = await this.executeLocal(block, attempt);
      }
    } catch (error) {
      const started = this.clock.now();
      record = {
        attempt,
        status: 'failed',
        reason: isK8sExecutorError(error) ? error.code : 'JOB_FAILED',
        message: error instanceof Error ? error.message : String(error),
        startedAt: started,
        finishedAt: started,
      };
      // Config and identity problems do not get better by retrying.
      if (
        isK8sExecutorError(error) &&
        ['CONFIG_INVALID', 'JOB_NAME_COLLISION', 'API_FORBIDDEN'].includes(error.code)
      ) {
        this.nextAttempt.set(uuid, Number.POSITIVE_INFINITY);
      }
    } finally {
      this.running--;
    }
    outcome.attempts.push(record);
    outcome.lastLogLines = lastLines;
    outcome.warningEvents = warnings;
    this.settle(block, record);
  }

  private settle(block: BlockDefinition, record: AttemptRecord): void {
    if (record.status === 'succeeded') {
      this.finish(block.uuid, 'succeeded', record);
      this.enqueueReady();
      return;
    }
    if (record.status === 'cancelled' || this.abort.signal.aborted) {
      this.finish(block.uuid, 'cancelled', record);
      return;
    }
    const retry = block.retry ?? NO_RETRY;
    const next = record.attempt + 1;
    const allowed =
      this.nextAttempt.get(block.uuid) !== Number.POSITIVE_INFINITY && next <= retry.retries + 1;
    if (!allowed) {
      this.finish(block.uuid, 'failed', record);
      this.skipBlockedDownstream();
      return;
    }
    const delayMs = retryDelayMs(retry, next);
    this.nextAttempt.set(block.uuid, next);
    this.setStatus(block.uuid, 'retrying', next, record.message);
    this.options.onEvent?.({
      type: 'retry-scheduled',
      blockUuid: block.uuid,
      nextAttempt: next,
      delayMs,
      at: this.clock.now(),
    });
    this.delayed.add(block.uuid);
    void this.clock
      .sleep(delayMs, this.abort.signal)
      .then(
        () => this.ready.push(block.uuid),
        () => this.finish(block.uuid, 'cancelled', { ...record, status: 'cancelled', reason: 'CANCELLED' }),
      )
      .finally(() => {
        this.delayed.delete(block.uuid);
        this.poke();
      });
  }

  private finish(uuid: string, status: BlockOutcome['status'], record?: AttemptRecord): void {
    const outcome = this.outcomes.get(uuid)!;
    outcome.status = status;
    if (record?.reason) outcome.reason = record.reason;
    else delete outcome.reason;
    if (record?.message) outcome.message = record.message;
    else delete outcome.message;
    outcome.finishedAt = record?.finishedAt ?? this.clock.now();
    this.setStatus(uuid, status, record?.attempt ?? this.nextAttempt.get(uuid) ?? 1, record?.message);
  }

  private async executeK8s(block: BlockDefinition, attempt: number): Promise<BlockResult> {
    return this.executor.internals.blocks.execute(
      {
        pipelineUuid: this.request.pipelineUuid,
        blockUuid: block.uuid,
        pipelineRunId: this.request.pipelineRunId,
        blockRunId: this.blockRunId(block.uuid),
        attempt,
        ...(this.request.triggerName !== undefined ? { triggerName: this.request.triggerName } : {}),
        ...(this.request.variables ? { variables: this.request.variables } : {}),
      },
      {
        snapshot: this.snapshot,
        signal: this.abort.signal,
        // Jobs stay until the run ends: a resumed run reads them to know what already happened.
        keepJob: true,
        onEvent: (event) => {
          this.options.onEvent?.({ type: 'block-event', blockUuid: block.uuid, event });
          if (event.type === 'pending' || event.type === 'running')
            this.setStatus(block.uuid, event.type, attempt);
        },
        ...(this.options.onLog ? { onLog: (line) => this.options.onLog?.(block.uuid, line) } : {}),
      },
    );
  }

  private async executeLocal(block: BlockDefinition, attempt: number): Promise<AttemptRecord> {
    const runner = this.executor.internals.options.localRunner;
    const startedAt = this.clock.now();
    if (!runner) {
      return {
        attempt,
        status: 'failed',
        reason: 'JOB_FAILED',
        message: `Block "${block.uuid}" has executor_type "${block.executorType}" and no local runner was given: pass \`localRunner\` to K8sPipelineExecutor, or set executor_type: k8s.`,
        startedAt,
        finishedAt: startedAt,
      };
    }
    this.setStatus(block.uuid, 'running', attempt);
    const result = await runner({
      pipelineUuid: this.request.pipelineUuid,
      pipelineRunId: String(this.request.pipelineRunId),
      blockUuid: block.uuid,
      blockRunId: this.blockRunId(block.uuid),
      ...(this.request.triggerName !== undefined ? { triggerName: this.request.triggerName } : {}),
      attempt,
      variables: this.request.variables ?? {},
      signal: this.abort.signal,
      onLog: (line) =>
        this.options.onLog?.(block.uuid, { jobName: `local:${block.uuid}`, podName: 'local', line }),
    });
    const finishedAt = this.clock.now();
    const cancelled = this.abort.signal.aborted && result.status === 'failed';
    return {
      attempt,
      status: cancelled ? 'cancelled' : result.status,
      ...(cancelled
        ? { reason: 'CANCELLED' as const }
        : result.status === 'failed'
          ? { reason: 'EXIT_CODE' as const }
          : {}),
      ...(result.message ? { message: result.message } : {}),
      ...(result.exitCode !== undefined ? { exitCode: result.exitCode } : {}),
      startedAt,
      finishedAt,
    };
  }

  private isK8s(block: BlockDefinition): boolean {
    return this.k8sTypes.has(block.executorType.toLowerCase());
  }

  private blockRunId(uuid: string): string {
    return String(this.request.blockRunIds?.[uuid] ?? `${this.request.pipelineRunId}-${uuid}`);
  }

  /** Resolves a block's first attempt exactly as running it would (same identity, same variables). */
  private prepareBlock(block: BlockDefinition) {
    return this.executor.internals.blocks.prepare(
      {
        pipelineUuid: this.request.pipelineUuid,
        blockUuid: block.uuid,
        pipelineRunId: this.request.pipelineRunId,
        blockRunId: this.blockRunId(block.uuid),
        attempt: 1,
        ...(this.request.triggerName !== undefined ? { triggerName: this.request.triggerName } : {}),
        ...(this.request.variables ? { variables: this.request.variables } : {}),
      },
      this.snapshot,
      this.abort.signal,
    );
  }

  /** Reads the Jobs an earlier run of this pipeline run left behind (resume). */
  private async earlierAttempts(): Promise<Map<string, EarlierAttempt[]>> {
    const found = new Map<string, EarlierAttempt[]>();
    if (!this.pipeline.blocks.some((b) => this.isK8s(b))) return found;
    for (const block of this.pipeline.blocks.filter((b) => this.isK8s(b))) {
      // Every k8s block's config is resolved up front: an invalid one stops the run before any Job exists.
      this.namespaces.add((await this.prepareBlock(block)).namespace);
    }
    const { jobClient } = this.executor.internals.options;
    for (const namespace of this.namespaces) {
      const list = await jobClient.listJobs(namespace, this.runSelector(), { signal: this.abort.signal });
      for (const job of list.items) {
        const block =
          job.metadata.annotations?.[IDENTITY_KEYS.block] ?? job.metadata.labels?.[IDENTITY_KEYS.block];
        if (!block || !this.byUuid.has(block)) continue;
        if (
          job.metadata.annotations?.[IDENTITY_KEYS.pipeline] !== undefined &&
          job.metadata.annotations[IDENTITY_KEYS.pipeline] !== this.request.pipelineUuid
        )
          continue;
        const attempt = Number(job.metadata.labels?.[IDENTITY_KEYS.attempt] ?? '1');
        const entry: EarlierAttempt = { attempt, state: jobState(job), jobName: job.metadata.name ?? '' };
        found.set(
          block,
          [...(found.get(block) ?? []), entry].sort((a, b) => a.attempt - b.attempt),
        );
      }
    }
    return found;
  }

  /** Sets a block's starting point from what an earlier run did. */
  private restore(block: BlockDefinition, earlier: EarlierAttempt[]): void {
    const outcome: BlockOutcome = {
      uuid: block.uuid,
      executor: this.isK8s(block) ? 'k8s' : 'local',
      status: 'skipped',
      attempts: [],
      lastLogLines: [],
      warningEvents: [],
    };
    this.outcomes.set(block.uuid, outcome);
    this.statuses.set(block.uuid, 'waiting');
    const now = this.clock.now();
    for (const e of earlier.filter((x) => x.state !== 'active')) {
      outcome.attempts.push({
        attempt: e.attempt,
        jobName: e.jobName,
        status: e.state === 'succeeded' ? 'succeeded' : 'failed',
        ...(e.state === 'failed'
          ? { message: `Attempt ${e.attempt} failed in an earlier run (Job ${e.jobName}).` }
          : {}),
        fromEarlierRun: true,
        startedAt: now,
        finishedAt: now,
      });
    }
    const last = earlier.at(-1);
    if (!last) return;
    if (last.state === 'succeeded') {
      this.finish(block.uuid, 'succeeded', outcome.attempts.at(-1));
    } else if (last.state === 'active') {
      this.nextAttempt.set(block.uuid, last.attempt); // same attempt: create → 409 → adopt
    } else {
      const retry = block.retry ?? NO_RETRY;
      if (last.attempt + 1 <= retry.retries + 1) this.nextAttempt.set(block.uuid, last.attempt + 1);
      else this.finish(block.uuid, 'failed', outcome.attempts.at(-1));
    }
  }

  private enqueueReady(): void {
    for (const block of this.pipeline.blocks) {
      if (this.statuses.get(block.uuid) !== 'waiting' || this.ready.includes(block.uuid)) continue;
      if (block.upstream.every((u) => this.statuses.get(u) === 'succeeded')) this.ready.push(block.uuid);
    }
    this.poke();
  }

  /** Marks every block downstream of a failed (or skipped) block as skipped, repeatedly. */
  private skipBlockedDownstream(): void {
    let changed = true;
    while (changed) {
      changed = false;
      for (const block of this.pipeline.blocks) {
        if (this.statuses.get(block.uuid) !== 'waiting') continue;
        const blocker = block.upstream.find((u) =>
          ['failed', 'skipped', 'cancelled'].includes(this.statuses.get(u) ?? ''),
        );
        if (!blocker) continue;
        const outcome = this.outcomes.get(block.uuid)!;
        outcome.status = 'skipped';
        outcome.reason = 'SKIPPED';
        outcome.blockedBy = blocker;
        outcome.message = `Skipped: upstream block "${blocker}" did not succeed.`;
        this.setStatus(block.uuid, 'skipped', 1, outcome.message);
        changed = true;
      }
    }
  }

  private cancelWaiting(): void {
    for (const uuid of this.ready.splice(0)) this.markCancelled(uuid);
    for (const block of this.pipeline.blocks) {
      if (this.statuses.get(block.uuid) === 'waiting') this.markCancelled(block.uuid);
    }
  }

  private markCancelled(uuid: string): void {
    const outcome = this.outcomes.get(uuid)!;
    outcome.status = 'cancelled';
    outcome.reason = 'CANCELLED';
    outcome.message = 'Cancelled before it started.';
    this.setStatus(uuid, 'cancelled', this.nextAttempt.get(uuid) ?? 1);
  }

  private setStatus(uuid: string, status: BlockRunStatus, attempt: number, message?: string): void {
    this.statuses.set(uuid, status);
    this.options.onEvent?.({
      type: 'block-status',
      blockUuid: uuid,
      status,
      attempt,
      at: this.clock.now(),
      ...(message ? { message } : {}),
    });
  }

  /** Deletes every Job of this run once it is over (unless asked to keep them). */
  private async cleanup(): Promise<void> {
    const { options } = this.executor.internals;
    if (options.keepJobs) return;
    const names = new Set<string>();
    for (const outcome of this.outcomes.values()) {
      for (const a of outcome.attempts) if (a.jobName) names.add(a.jobName);
    }
    if (names.size === 0) return;
    for (const namespace of this.namespaces) {
      const list = await options.jobClient
        .listJobs(namespace, this.runSelector())
        .catch(() => ({ items: [] as Job[] }));
      await Promise.all(
        list.items
          .filter((job) => job.metadata.name && names.has(job.metadata.name))
          .map((job) =>
            options.jobClient
              .deleteJob(namespace, job.metadata.name!, { propagationPolicy: 'Background' })
              .catch(() => false),
          ),
      );
    }
  }

  /** The label selector of every Job of this pipeline run. */
  private runSelector(): string {
    return [
      managedSelector(this.clusterId),
      `${IDENTITY_KEYS.pipelineRunId}=${toLabelValue(String(this.request.pipelineRunId))}`,
    ].join(',');
  }
}

function jobState(job: Job): EarlierAttempt['state'] {
  const conditions = job.status?.conditions ?? [];
  const has = (type: string) => conditions.some((c) => c.type === type && c.status === 'True');
  if (has('Complete') || has('SuccessCriteriaMet')) return 'succeeded';
  if (has('Failed') || has('FailureTarget')) return 'failed';
  return 'active';
}
