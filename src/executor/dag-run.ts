import type { BlockDefinition } from '../config/index.js';
import { runAttempt } from './dag-attempt.js';
import { BlockStates } from './dag-block-states.js';
import { deleteRunJobs } from './dag-cleanup.js';
import type { DagContext } from './dag-context.js';
import { type EarlierAttempt, findEarlierAttempts, NO_RETRY } from './dag-resume.js';
import { leftRunningRecord, NOT_STARTED_CLOSED } from './pipeline-close.js';
import { pipelineStatus } from './pipeline-records.js';
import type { AttemptRecord, PipelineResult } from './pipeline-types.js';
import { retryDelayMs } from './retry-delay.js';

/** The attempt a block is running now. */
interface RunningAttempt {
  attempt: number;
  startedAt: number;
  local: boolean;
  /** The Job's name, once the block executor reported it (`submitted` or `adopted`). */
  jobName?: string;
}

/**
 * The scheduler of one DAG run and its mutable bookkeeping: starts ready blocks up to the concurrency
 * limit, retries failed attempts after their delay, skips what is downstream of a failure, cancels, and
 * ends at once when the executor is closed. The executor itself stays stateless between runs.
 */
export class DagRun {
  private readonly blocks: BlockStates;
  private readonly nextAttempt = new Map<string, number>();
  private readonly ready: string[] = [];
  /** Blocks waiting for a retry delay. */
  private readonly delayed = new Set<string>();
  private readonly running = new Map<string, RunningAttempt>();
  /** The run's cancel: running Jobs are deleted. */
  private readonly abort = new AbortController();
  /** The executor's close (a shutdown): nothing more starts, nothing is deleted. */
  private readonly closing = new AbortController();
  /** Every namespace this run's Jobs live in (for resume and cleanup). */
  private readonly namespaces = new Set<string>();
  /** Whether any Job of this run may exist (an earlier run's, or an attempt started): cleanup is needed. */
  private jobsMayExist = false;
  /** A bug in the bookkeeping itself, rethrown by {@link execute} rather than lost. */
  private failure: { error: unknown } | undefined;
  private wake: (() => void) | undefined;

  /** @param closed aborts when the executor is closed. */
  constructor(
    private readonly ctx: DagContext,
    private readonly closed: AbortSignal,
  ) {
    this.blocks = new BlockStates(ctx);
  }

  async execute(): Promise<PipelineResult> {
    const { clock, signal, pipeline, request } = this.ctx;
    const startedAt = clock.now();
    const onAbort = () => this.abort.abort(signal?.reason);
    const onClose = () => this.shutDown();
    if (signal?.aborted) onAbort();
    if (this.closed.aborted) onClose();
    signal?.addEventListener('abort', onAbort, { once: true });
    this.closed.addEventListener('abort', onClose, { once: true });
    let cleanupError: string | undefined;
    try {
      // Cancelled or closed before it began: no Job is created, every block ends cancelled by the loop.
      const earlier = await this.earlierAttempts().catch((error: unknown) => {
        if (this.abort.signal.aborted || this.isClosed) return new Map<string, EarlierAttempt[]>();
        throw error;
      });
      for (const block of pipeline.blocks) {
        const next = this.blocks.restore(block, earlier.get(block.uuid) ?? []);
        if (next !== undefined) this.nextAttempt.set(block.uuid, next);
      }
      this.blocks.skipBlockedDownstream();
      this.enqueueReady();
      await this.loop();
      // A closed run deletes nothing: the next run of the same pipeline run reads and adopts its Jobs.
      if (!this.isClosed) cleanupError = await this.cleanup();
    } finally {
      signal?.removeEventListener('abort', onAbort);
      this.closed.removeEventListener('abort', onClose);
    }
    if (this.failure) throw this.failure.error;
    const blocks = this.blocks.all();
    return {
      status: pipelineStatus(blocks),
      pipelineUuid: request.pipelineUuid,
      pipelineRunId: String(request.pipelineRunId),
      mode: 'dag',
      blocks,
      ...(this.isClosed ? { closed: true } : {}),
      ...(cleanupError ? { cleanupError } : {}),
      startedAt,
      finishedAt: clock.now(),
    };
  }

  private get isClosed(): boolean {
    return this.closing.signal.aborted;
  }

  /** Aborts on cancel or close: what the run's own waits and calls stop on. */
  private get stopSignal(): AbortSignal {
    return AbortSignal.any([this.abort.signal, this.closing.signal]);
  }

  /**
   * Every k8s block's config is resolved up front (an invalid one stops the run before any Job exists),
   * which also tells the namespaces to look for an earlier run's Jobs in.
   */
  private async earlierAttempts(): Promise<Map<string, EarlierAttempt[]>> {
    const k8sBlocks = this.ctx.pipeline.blocks.filter((b) => this.ctx.isK8s(b));
    if (k8sBlocks.length === 0 || this.isClosed) return new Map();
    const signal = this.stopSignal;
    for (const block of k8sBlocks) {
      this.namespaces.add((await this.ctx.prepare(block, 1, signal)).namespace);
    }
    const earlier = await findEarlierAttempts(this.ctx, this.namespaces, signal);
    this.jobsMayExist = earlier.size > 0;
    return earlier;
  }

  /** The loop: start ready blocks up to the concurrency limit; wait until something changes; repeat. */
  private async loop(): Promise<void> {
    const concurrency = Math.max(1, this.ctx.settings.concurrency ?? 4);
    const tasks = new Set<Promise<void>>();
    for (;;) {
      if (this.isClosed) {
        // Attempts still running were recorded as left running by the close; nothing waits for them.
        this.cancelNotStarted(NOT_STARTED_CLOSED);
        return;
      }
      if (this.abort.signal.aborted) this.cancelNotStarted('Cancelled before it started.');
      while (!this.abort.signal.aborted && this.running.size < concurrency && this.ready.length > 0) {
        const uuid = this.ready.shift()!;
        const task = this.runBlock(uuid)
          .catch((error: unknown) => {
            this.failure ??= { error };
          })
          .finally(() => {
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
        return;
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
    const block = this.ctx.block(uuid)!;
    const attempt = this.nextAttempt.get(uuid) ?? 1;
    const outcome = this.blocks.outcome(uuid);
    const now = this.ctx.clock.now();
    outcome.startedAt ??= now;
    const local = !this.ctx.isK8s(block);
    const current: RunningAttempt = { attempt, startedAt: now, local };
    this.running.set(uuid, current);
    if (!local) this.jobsMayExist = true;
    // After a close the attempt goes on unobserved: its events belong to a run that already ended.
    const live = () => this.running.get(uuid) === current;
    this.blocks.set(uuid, 'submitted', attempt);
    if (!live()) return; // closed from the callback: nothing was started
    const { onLog } = this.ctx;
    const result = await runAttempt(this.ctx, block, attempt, {
      signal: this.abort.signal,
      closed: this.closing.signal,
      onStatus: (status) => {
        if (live()) this.blocks.set(uuid, status, attempt);
      },
      onEvent: (event) => {
        if (!live()) return;
        if (event.type === 'submitted' || event.type === 'adopted') current.jobName = event.jobName;
        this.ctx.emit({ type: 'block-event', blockUuid: uuid, event });
      },
      onLog: onLog
        ? (line) => {
            if (live()) onLog(uuid, line);
          }
        : undefined,
    });
    if (!live()) return; // the close already recorded this attempt
    if (result.interrupted) {
      // The executor's watches were closed under the attempt: a shutdown, whoever started it.
      this.shutDown();
      return;
    }
    this.running.delete(uuid);
    if (result.namespace) this.namespaces.add(result.namespace);
    if (result.final) this.nextAttempt.set(uuid, Number.POSITIVE_INFINITY);
    outcome.attempts.push(result.record);
    outcome.lastLogLines = result.lastLogLines;
    outcome.warningEvents = result.warningEvents;
    this.settle(block, result.record);
  }

  private settle(block: BlockDefinition, record: AttemptRecord): void {
    if (record.status === 'succeeded') {
      this.blocks.finish(block.uuid, 'succeeded', record);
      this.enqueueReady();
      return;
    }
    if (record.status === 'cancelled' || this.abort.signal.aborted) {
      this.blocks.finish(block.uuid, 'cancelled', record);
      return;
    }
    const retry = block.retry ?? NO_RETRY;
    const next = record.attempt + 1;
    const allowed =
      this.nextAttempt.get(block.uuid) !== Number.POSITIVE_INFINITY && next <= retry.retries + 1;
    if (!allowed) {
      this.blocks.finish(block.uuid, 'failed', record);
      this.blocks.skipBlockedDownstream();
      return;
    }
    const delayMs = retryDelayMs(retry, next);
    const uuid = block.uuid;
    this.nextAttempt.set(uuid, next);
    // In `delayed` from here on: a close (even from the callbacks below) records the block and removes it.
    this.delayed.add(uuid);
    this.blocks.set(uuid, 'retrying', next, record.message);
    this.ctx.emit({
      type: 'retry-scheduled',
      blockUuid: uuid,
      nextAttempt: next,
      delayMs,
      at: this.ctx.clock.now(),
    });
    if (!this.delayed.has(uuid)) return;
    this.ctx.clock
      .sleep(delayMs, this.stopSignal)
      .then(
        () => {
          if (this.delayed.delete(uuid)) this.ready.push(uuid);
        },
        () => {
          if (this.delayed.delete(uuid))
            this.blocks.finish(uuid, 'cancelled', { ...record, status: 'cancelled', reason: 'CANCELLED' });
        },
      )
      .catch((error: unknown) => {
        this.failure ??= { error };
      })
      .finally(() => this.poke());
  }

  /**
   * The executor was closed (or its watches, under a running attempt): every running attempt is
   * recorded as left running (its Job keeps running, to be adopted by the next run; a local block's
   * process is stopped), pending retries are not started, and the loop ends without waiting.
   */
  private shutDown(): void {
    if (this.isClosed) return;
    this.closing.abort();
    const now = this.ctx.clock.now();
    for (const [uuid, current] of this.running) {
      const record: AttemptRecord = current.local
        ? {
            attempt: current.attempt,
            status: 'cancelled',
            reason: 'CANCELLED',
            message: `The executor was closed while attempt ${current.attempt} ran; the local block was stopped.`,
            startedAt: current.startedAt,
            finishedAt: now,
          }
        : leftRunningRecord(current.attempt, current.jobName, current.startedAt, now);
      this.blocks.outcome(uuid).attempts.push(record);
      this.blocks.finish(uuid, 'cancelled', record);
    }
    this.running.clear();
    for (const uuid of this.delayed) {
      const attempt = this.nextAttempt.get(uuid) ?? 1;
      this.blocks.finish(uuid, 'cancelled', {
        attempt,
        status: 'cancelled',
        reason: 'CANCELLED',
        message: `Attempt ${attempt} was not started: the executor was closed during the retry delay.`,
        startedAt: now,
        finishedAt: now,
      });
    }
    this.delayed.clear();
    this.poke();
  }

  private enqueueReady(): void {
    for (const uuid of this.blocks.ready()) if (!this.ready.includes(uuid)) this.ready.push(uuid);
    this.poke();
  }

  private cancelNotStarted(message: string): void {
    this.blocks.cancelNotStarted(this.ready.splice(0), message, (uuid) => this.nextAttempt.get(uuid) ?? 1);
  }

  /** Deletes every Job of this run once it is over (unless asked to keep them); says what is left. */
  private async cleanup(): Promise<string | undefined> {
    if (this.ctx.settings.keepJobs || !this.jobsMayExist) return undefined;
    const problems = await deleteRunJobs(this.ctx, this.namespaces, this.closing.signal);
    return problems.length > 0 ? `Deleting the run's Jobs failed: ${problems.join('; ')}.` : undefined;
  }
}
