import type { BlockDefinition } from '../config/index.js';
import { runAttempt } from './dag-attempt.js';
import { deleteRunJobs } from './dag-cleanup.js';
import type { DagContext } from './dag-context.js';
import { type EarlierAttempt, findEarlierAttempts, NO_RETRY, startingPoint } from './dag-resume.js';
import { pipelineStatus } from './pipeline-records.js';
import type { AttemptRecord, BlockOutcome, BlockRunStatus, PipelineResult } from './pipeline-types.js';
import { retryDelayMs } from './retry-delay.js';

/**
 * The scheduler of one DAG run and its mutable bookkeeping: starts ready blocks up to the concurrency
 * limit, retries failed attempts after their delay, skips what is downstream of a failure, and cancels.
 * The executor itself stays stateless between runs.
 */
export class DagRun {
  private readonly outcomes = new Map<string, BlockOutcome>();
  private readonly statuses = new Map<string, BlockRunStatus>();
  private readonly nextAttempt = new Map<string, number>();
  private readonly ready: string[] = [];
  private readonly delayed = new Set<string>();
  private running = 0;
  private readonly abort = new AbortController();
  /** Every namespace this run's Jobs live in (for resume and cleanup). */
  private readonly namespaces = new Set<string>();
  private wake: (() => void) | undefined;

  constructor(private readonly ctx: DagContext) {}

  async execute(): Promise<PipelineResult> {
    const { clock, runOptions, pipeline, request } = this.ctx;
    const startedAt = clock.now();
    const { signal } = runOptions;
    const onAbort = () => this.abort.abort(signal?.reason);
    if (signal?.aborted) onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      // Cancelled before it began: no Job is created, every block ends cancelled by the loop below.
      const earlier = await this.earlierAttempts().catch((error: unknown) => {
        if (this.abort.signal.aborted) return new Map<string, EarlierAttempt[]>();
        throw error;
      });
      for (const block of pipeline.blocks) this.restore(block, earlier.get(block.uuid) ?? []);
      this.skipBlockedDownstream();
      this.enqueueReady();
      await this.loop();
      await this.cleanup();
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
    const blocks = pipeline.blocks.map((b) => this.outcomes.get(b.uuid)!);
    return {
      status: pipelineStatus(blocks),
      pipelineUuid: request.pipelineUuid,
      pipelineRunId: String(request.pipelineRunId),
      mode: 'dag',
      blocks,
      startedAt,
      finishedAt: clock.now(),
    };
  }

  /**
   * Every k8s block's config is resolved up front (an invalid one stops the run before any Job exists),
   * which also tells the namespaces to look for an earlier run's Jobs in.
   */
  private async earlierAttempts(): Promise<Map<string, EarlierAttempt[]>> {
    const k8sBlocks = this.ctx.pipeline.blocks.filter((b) => this.ctx.isK8s(b));
    if (k8sBlocks.length === 0) return new Map();
    for (const block of k8sBlocks) {
      this.namespaces.add((await this.ctx.prepare(block, 1, this.abort.signal)).namespace);
    }
    return findEarlierAttempts(this.ctx, this.namespaces, this.abort.signal);
  }

  /** The loop: start ready blocks up to the concurrency limit; wait until something changes; repeat. */
  private async loop(): Promise<void> {
    const concurrency = Math.max(1, this.ctx.settings.concurrency ?? 4);
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
    const block = this.ctx.block(uuid);
    const attempt = this.nextAttempt.get(uuid) ?? 1;
    this.running++;
    const outcome = this.outcomes.get(uuid)!;
    outcome.startedAt ??= this.ctx.clock.now();
    this.setStatus(uuid, 'submitted', attempt);
    const result = await runAttempt(this.ctx, block, attempt, {
      signal: this.abort.signal,
      onStatus: (status) => this.setStatus(uuid, status, attempt),
    }).finally(() => {
      this.running--;
    });
    if (result.namespace) this.namespaces.add(result.namespace);
    if (result.final) this.nextAttempt.set(uuid, Number.POSITIVE_INFINITY);
    outcome.attempts.push(result.record);
    outcome.lastLogLines = result.lastLogLines;
    outcome.warningEvents = result.warningEvents;
    this.settle(block, result.record);
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
    this.ctx.runOptions.onEvent?.({
      type: 'retry-scheduled',
      blockUuid: block.uuid,
      nextAttempt: next,
      delayMs,
      at: this.ctx.clock.now(),
    });
    this.delayed.add(block.uuid);
    void this.ctx.clock
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
    outcome.finishedAt = record?.finishedAt ?? this.ctx.clock.now();
    this.setStatus(uuid, status, record?.attempt ?? this.nextAttempt.get(uuid) ?? 1, record?.message);
  }

  /** Sets a block's starting point from what an earlier run did. */
  private restore(block: BlockDefinition, earlier: EarlierAttempt[]): void {
    const start = startingPoint(block, earlier, this.ctx.clock.now());
    this.outcomes.set(block.uuid, {
      uuid: block.uuid,
      executor: this.ctx.isK8s(block) ? 'k8s' : 'local',
      status: 'skipped',
      attempts: start.attempts,
      lastLogLines: [],
      warningEvents: [],
    });
    this.statuses.set(block.uuid, 'waiting');
    if (start.nextAttempt !== undefined) this.nextAttempt.set(block.uuid, start.nextAttempt);
    if (start.finished) this.finish(block.uuid, start.finished.status, start.finished.record);
  }

  private enqueueReady(): void {
    for (const block of this.ctx.pipeline.blocks) {
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
      for (const block of this.ctx.pipeline.blocks) {
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
    for (const block of this.ctx.pipeline.blocks) {
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
    this.ctx.runOptions.onEvent?.({
      type: 'block-status',
      blockUuid: uuid,
      status,
      attempt,
      at: this.ctx.clock.now(),
      ...(message ? { message } : {}),
    });
  }

  /** Deletes every Job of this run once it is over (unless asked to keep them). */
  private async cleanup(): Promise<void> {
    if (this.ctx.settings.keepJobs) return;
    const names = new Set<string>();
    for (const outcome of this.outcomes.values()) {
      for (const a of outcome.attempts) if (a.jobName) names.add(a.jobName);
    }
    await deleteRunJobs(this.ctx, this.namespaces, names);
  }
}
