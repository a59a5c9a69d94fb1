import type { BlockDefinition } from '../config/index.js';
import { runAttempt } from './dag-attempt.js';
import { BlockStates } from './dag-block-states.js';
import { cleanUpRun } from './dag-cleanup.js';
import type { DagContext } from './dag-context.js';
import { findConfigDrift } from './dag-drift.js';
import { type BlockDrift, type EarlierAttempt, NO_RETRY, readEarlierRun } from './dag-resume.js';
import { type NextAttempt, nextAttempt } from './dag-retry.js';
import {
  leftRunningRecord,
  NOT_STARTED_CLOSED,
  notStartedRecord,
  stoppedLocalRecord,
} from './pipeline-close.js';
import { attemptOf, pipelineStatus, setTermination } from './pipeline-records.js';
import { type AttemptRecord, DEFAULT_INFRASTRUCTURE_RETRIES, type PipelineResult } from './pipeline-types.js';
import type { BlockDetection } from './types.js';

/** The attempt a block is running now. */
interface RunningAttempt {
  attempt: number;
  startedAt: number;
  local: boolean;
  /** The Job's name, once the block executor reported it (`submitted` or `adopted`). */
  jobName?: string;
  /** The Job's final state, once seen: the attempt holds no slot any more while its result comes. */
  detected?: BlockDetection;
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
  /** Attempts whose Job runs: each holds a concurrency slot. */
  private readonly running = new Map<string, RunningAttempt>();
  /**
   * Attempts whose Job's final state was seen and whose result (log drain, diagnostics) is still on its
   * way: a success is already recorded and its downstream blocks started; a failure is decided once the
   * result is in. They hold no slot.
   */
  private readonly draining = new Map<string, RunningAttempt>();
  /** The run's cancel: running Jobs are deleted. */
  private readonly abort = new AbortController();
  /** The executor's close (a shutdown): nothing more starts, nothing is deleted. */
  private readonly closing = new AbortController();
  /** Every namespace this run's Jobs live in (for resume and cleanup). */
  private readonly namespaces = new Set<string>();
  /** The changes of a block whose running earlier attempt is adopted although its config changed. */
  private readonly adoptedDrift = new Map<string, { attempt: number; changes: string[] }>();
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
      const { earlier, drift } = await this.earlierAttempts().catch((error: unknown) => {
        if (this.abort.signal.aborted || this.isClosed) return { earlier: new Map(), drift: new Map() };
        throw error;
      });
      for (const block of pipeline.blocks) {
        const start = this.blocks.restore(block, earlier.get(block.uuid) ?? [], drift.get(block.uuid));
        if (start.nextAttempt !== undefined) this.nextAttempt.set(block.uuid, start.nextAttempt);
        // A running attempt is adopted as it is: its record carries the drift.
        if (start.drift?.action === 'adopted') this.adoptedDrift.set(block.uuid, start.drift);
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
   * See {@link readEarlierRun} (adds the namespaces of the run's blocks) and {@link findConfigDrift}:
   * what an earlier run left, and which of its blocks' configs changed since.
   */
  private async earlierAttempts(): Promise<{
    earlier: Map<string, EarlierAttempt[]>;
    drift: Map<string, BlockDrift>;
  }> {
    if (this.isClosed) return { earlier: new Map(), drift: new Map() };
    const earlier = await readEarlierRun(this.ctx, this.namespaces, this.stopSignal);
    this.jobsMayExist = earlier.size > 0;
    const drift = await findConfigDrift(this.ctx, earlier, this.stopSignal);
    return { earlier, drift };
  }

  /** `record` with the drift of its config when it is the adopted attempt of a drifted block. */
  private withDrift(uuid: string, record: AttemptRecord): AttemptRecord {
    const drift = this.adoptedDrift.get(uuid);
    if (drift?.attempt !== record.attempt || !record.adopted) return record;
    return { ...record, configDrift: drift.changes };
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
    const live = () => this.running.get(uuid) === current || this.draining.get(uuid) === current;
    this.blocks.set(uuid, 'submitted', attempt);
    if (!live()) return; // closed from the callback: nothing was started
    const { onLog } = this.ctx;
    const result = await runAttempt(this.ctx, block, attempt, {
      signal: this.abort.signal,
      closed: this.closing.signal,
      upstreamOutputs: this.blocks.upstreamOutputs(block),
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
      onDetected: (detection) => {
        if (live()) this.detected(block, current, detection);
      },
    });
    if (!live()) return; // the close already recorded this attempt
    if (result.interrupted) {
      // The executor's watches were closed under the attempt: a shutdown, whoever started it.
      this.shutDown();
      return;
    }
    this.running.delete(uuid);
    this.draining.delete(uuid);
    if (result.namespace) this.namespaces.add(result.namespace);
    if (result.final) this.nextAttempt.set(uuid, Number.POSITIVE_INFINITY);
    outcome.lastLogLines = result.lastLogLines;
    outcome.warningEvents = result.warningEvents;
    if (current.detected?.status === 'succeeded') return; // recorded when it was seen
    const record = this.withDrift(uuid, result.record);
    outcome.attempts.push(record);
    setTermination(outcome, result.termination);
    this.settle(block, record);
  }

  /**
   * An attempt's Job reached its final state: it frees its slot at once. A success is final: it is
   * recorded and the blocks it unblocks start now, while its log drain and cleanup go on. A failure waits
   * for its result (its diagnostics) before its retry or the skipping of its downstream blocks.
   */
  private detected(block: BlockDefinition, current: RunningAttempt, detection: BlockDetection): void {
    const uuid = block.uuid;
    current.detected = detection;
    this.running.delete(uuid);
    this.draining.set(uuid, current);
    this.namespaces.add(detection.namespace);
    if (detection.status === 'succeeded') {
      const record = this.withDrift(uuid, attemptOf(current.attempt, detection));
      const outcome = this.blocks.outcome(uuid);
      outcome.attempts.push(record);
      setTermination(outcome, detection);
      this.settle(block, record);
    }
    this.poke();
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
    const next = this.nextAfterFailure(block);
    if (next.kind === 'none') {
      this.blocks.finish(block.uuid, 'failed', record);
      this.blocks.skipBlockedDownstream();
      return;
    }
    const { attempt, delayMs } = next;
    const uuid = block.uuid;
    this.nextAttempt.set(uuid, attempt);
    // In `delayed` from here on: a close (even from the callbacks below) records the block and removes it.
    this.delayed.add(uuid);
    this.blocks.set(uuid, 'retrying', attempt, record.message);
    this.ctx.emit({
      type: 'retry-scheduled',
      blockUuid: uuid,
      nextAttempt: attempt,
      delayMs,
      at: this.ctx.clock.now(),
      ...(next.kind === 'infrastructure' ? { infrastructure: next.cause } : {}),
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

  /** What follows the block's latest attempt, which failed (see `nextAttempt`). */
  private nextAfterFailure(block: BlockDefinition): NextAttempt {
    if (this.nextAttempt.get(block.uuid) === Number.POSITIVE_INFINITY) return { kind: 'none' };
    const bound = this.ctx.settings.infrastructureRetries ?? DEFAULT_INFRASTRUCTURE_RETRIES;
    return nextAttempt(block.retry ?? NO_RETRY, bound, this.blocks.outcome(block.uuid).attempts);
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
      const { attempt, startedAt } = current;
      const record = current.local
        ? stoppedLocalRecord(attempt, startedAt, now)
        : leftRunningRecord(attempt, current.jobName, startedAt, now);
      this.blocks.outcome(uuid).attempts.push(record);
      this.blocks.finish(uuid, 'cancelled', record);
    }
    this.running.clear();
    // A success seen is recorded already; a failure seen is recorded now, and its retry not started.
    for (const [uuid, { attempt, detected }] of this.draining) {
      if (detected?.status !== 'failed') continue;
      const record = this.withDrift(uuid, attemptOf(attempt, detected));
      const outcome = this.blocks.outcome(uuid);
      outcome.attempts.push(record);
      setTermination(outcome, detected);
      const next = this.nextAfterFailure(this.ctx.block(uuid)!);
      if (next.kind === 'none') this.blocks.finish(uuid, 'failed', record);
      else this.blocks.finish(uuid, 'cancelled', notStartedRecord(next.attempt, now));
    }
    this.draining.clear();
    for (const uuid of this.delayed) {
      this.blocks.finish(
        uuid,
        'cancelled',
        notStartedRecord(this.nextAttempt.get(uuid) ?? 1, now, 'the retry delay'),
      );
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

  /**
   * Deletes every Job of this run once it is over (unless asked to keep them), except those it left
   * running on purpose (their namespace could not be observed: they may still finish, and are the
   * user's to adopt or delete); says what is left.
   */
  private async cleanup(): Promise<string | undefined> {
    if (this.ctx.keepJobs || !this.jobsMayExist) return undefined;
    const leftRunning = new Set(
      this.blocks
        .all()
        .flatMap((outcome) => outcome.attempts)
        .flatMap((attempt) => (attempt.leftRunning && attempt.jobName ? [attempt.jobName] : [])),
    );
    return cleanUpRun(this.ctx, this.namespaces, this.closing.signal, leftRunning);
  }
}
