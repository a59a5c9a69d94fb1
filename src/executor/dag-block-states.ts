import type { BlockDefinition } from '../config/index.js';
import type { DagContext } from './dag-context.js';
import { type BlockDrift, type EarlierAttempt, type StartingPoint, startingPoint } from './dag-resume.js';
import { setTermination } from './pipeline-records.js';
import {
  type AttemptRecord,
  type BlockOutcome,
  type BlockRunStatus,
  DEFAULT_INFRASTRUCTURE_RETRIES,
} from './pipeline-types.js';

/**
 * Where each block of one DAG run stands and what it did: its status (each change reported as a
 * `block-status` event) and the outcome the result will carry.
 */
export class BlockStates {
  private readonly outcomes = new Map<string, BlockOutcome>();
  private readonly statuses = new Map<string, BlockRunStatus>();

  constructor(private readonly ctx: DagContext) {}

  /** Every block's outcome, in pipeline order. */
  all(): BlockOutcome[] {
    return this.ctx.pipeline.blocks.map((b) => this.outcomes.get(b.uuid)!);
  }

  /** The (mutable) outcome of one block. */
  outcome(uuid: string): BlockOutcome {
    return this.outcomes.get(uuid)!;
  }

  status(uuid: string): BlockRunStatus | undefined {
    return this.statuses.get(uuid);
  }

  /**
   * Starts a block from what an earlier run did (see `startingPoint`), reporting a drift of its config
   * first (a `config-drift` event); returns where it starts (the attempt to run next, when it is not
   * the first).
   */
  restore(block: BlockDefinition, earlier: EarlierAttempt[], drift?: BlockDrift): StartingPoint {
    const bound = this.ctx.settings.infrastructureRetries ?? DEFAULT_INFRASTRUCTURE_RETRIES;
    const now = this.ctx.clock.now();
    const start = startingPoint(block, earlier, now, bound, drift);
    if (start.drift) this.ctx.emit({ type: 'config-drift', blockUuid: block.uuid, ...start.drift, at: now });
    this.outcomes.set(block.uuid, {
      uuid: block.uuid,
      executor: this.ctx.isK8s(block) ? 'k8s' : 'local',
      status: 'skipped',
      attempts: start.attempts,
      lastLogLines: [],
      warningEvents: [],
    });
    this.statuses.set(block.uuid, 'waiting');
    if (start.finished) {
      setTermination(this.outcome(block.uuid), start.finished.termination);
      this.finish(block.uuid, start.finished.status, start.finished.record);
    }
    return start;
  }

  /** Sets a block's status and reports it. */
  set(uuid: string, status: BlockRunStatus, attempt: number, message?: string): void {
    this.statuses.set(uuid, status);
    this.ctx.emit({
      type: 'block-status',
      blockUuid: uuid,
      status,
      attempt,
      at: this.ctx.clock.now(),
      ...(message ? { message } : {}),
    });
  }

  /** Ends a block with `status`; the record says which attempt decided it, why, and when. */
  finish(uuid: string, status: BlockOutcome['status'], record: AttemptRecord): void {
    const outcome = this.outcome(uuid);
    outcome.status = status;
    if (record.reason) outcome.reason = record.reason;
    else delete outcome.reason;
    if (record.message) outcome.message = record.message;
    else delete outcome.message;
    outcome.finishedAt = record.finishedAt;
    this.set(uuid, status, record.attempt, record.message);
  }

  /** The `output` of each upstream block of `block` that succeeded with one, by uuid. */
  upstreamOutputs(block: BlockDefinition): Record<string, unknown> {
    const outputs: Record<string, unknown> = {};
    for (const uuid of block.upstream) {
      const outcome = this.outcomes.get(uuid);
      if (outcome?.status === 'succeeded' && Object.hasOwn(outcome, 'output')) outputs[uuid] = outcome.output;
    }
    return outputs;
  }

  /** The blocks waiting whose upstream blocks all succeeded, in pipeline order. */
  ready(): string[] {
    return this.ctx.pipeline.blocks
      .filter(
        (b) => this.status(b.uuid) === 'waiting' && b.upstream.every((u) => this.status(u) === 'succeeded'),
      )
      .map((b) => b.uuid);
  }

  /** Marks every block downstream of a failed (or skipped, or cancelled) block as skipped, repeatedly. */
  skipBlockedDownstream(): void {
    let changed = true;
    while (changed) {
      changed = false;
      for (const block of this.ctx.pipeline.blocks) {
        if (this.status(block.uuid) !== 'waiting') continue;
        const blocker = block.upstream.find((u) =>
          ['failed', 'skipped', 'cancelled'].includes(this.status(u) ?? ''),
        );
        if (!blocker) continue;
        const outcome = this.outcome(block.uuid);
        outcome.status = 'skipped';
        outcome.reason = 'SKIPPED';
        outcome.blockedBy = blocker;
        outcome.message = `Skipped: upstream block "${blocker}" did not succeed.`;
        this.set(block.uuid, 'skipped', 1, outcome.message);
        changed = true;
      }
    }
  }

  /**
   * Ends as cancelled every block that has not started: `queued` ones (ready, or due for a retry) and
   * every block still waiting for its upstream. `attemptOf` tells the attempt each would have run.
   */
  cancelNotStarted(queued: readonly string[], message: string, attemptOf: (uuid: string) => number): void {
    const waiting = this.ctx.pipeline.blocks
      .filter((b) => this.status(b.uuid) === 'waiting')
      .map((b) => b.uuid);
    for (const uuid of new Set([...queued, ...waiting])) {
      const outcome = this.outcome(uuid);
      outcome.status = 'cancelled';
      outcome.reason = 'CANCELLED';
      outcome.message = message;
      this.set(uuid, 'cancelled', attemptOf(uuid));
    }
  }
}
