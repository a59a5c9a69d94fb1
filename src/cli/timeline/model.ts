import type { AttemptRecord, BlockOutcome, PipelineResult } from '../../executor/pipeline-types.js';
import { infrastructureEvent } from '../../monitor/job-outcome.js';

/**
 * One phase of an attempt on the time axis. `queued`: its Job was suspended, held by a queue (Kueue)
 * until admitted, or again after a preemption; `pending`: submitted or admitted, no container running
 * yet (pod being scheduled, image pulled); `running`: the container ran.
 */
export interface Segment {
  kind: 'queued' | 'pending' | 'running';
  from: number;
  to: number;
}

/** The times of an attempt the chart uses. */
export type AttemptTimes = Pick<
  AttemptRecord,
  'startedAt' | 'runningAt' | 'finishedAt' | 'status' | 'exitCode' | 'queued'
>;

/**
 * The phases of one attempt, in order, empty ones left out. Its `queued` intervals are queued; the rest
 * is pending until its first container ran (`runningAt`), running after it. So the time between a
 * re-admission after a preemption and the new pod's start counts as running, as a retried pod's does.
 * Without `runningAt` the attempt either never started a container (all pending: an image that cannot be
 * pulled, say) or its start was not seen (a local block, a succeeded or exited attempt adopted from an
 * earlier run): then it is all running, outside its queued intervals.
 */
export function attemptSegments(attempt: AttemptTimes, executor: BlockOutcome['executor']): Segment[] {
  const { startedAt, finishedAt } = attempt;
  const clamp = (t: number) => Math.min(Math.max(t, startedAt), finishedAt);
  const ran =
    attempt.runningAt !== undefined ||
    executor === 'local' ||
    attempt.status === 'succeeded' ||
    attempt.exitCode !== undefined;
  const runFrom = attempt.runningAt !== undefined ? clamp(attempt.runningAt) : ran ? startedAt : finishedAt;
  const queued = (attempt.queued ?? [])
    .map((q) => ({ from: clamp(q.from), to: clamp(q.to) }))
    .filter((q) => q.to > q.from);
  const cuts = [...new Set([startedAt, finishedAt, runFrom, ...queued.flatMap((q) => [q.from, q.to])])].sort(
    (a, b) => a - b,
  );
  const segments: Segment[] = [];
  for (const [i, from] of cuts.slice(0, -1).entries()) {
    const to = cuts[i + 1]!;
    const kind: Segment['kind'] = queued.some((q) => q.from <= from && to <= q.to)
      ? 'queued'
      : from < runFrom
        ? 'pending'
        : 'running';
    const last = segments.at(-1);
    if (last?.kind === kind) segments[segments.length - 1] = { ...last, to };
    else segments.push({ kind, from, to });
  }
  // A zero-length attempt still gets one (minimum-width) bar, in the phase it ended in.
  return segments.length > 0
    ? segments
    : [{ kind: ran ? 'running' : 'pending', from: startedAt, to: finishedAt }];
}

/**
 * The chain of blocks that set the run's length: from the block that finished last, back through the
 * upstream block that finished last before it (the one it waited for), to a block with no upstream.
 * Empty when nothing ran. Blocks are returned first to last.
 */
export function criticalPath(
  result: PipelineResult,
  upstream: Readonly<Record<string, readonly string[]>>,
): string[] {
  const byUuid = new Map(result.blocks.map((b) => [b.uuid, b]));
  const ran = result.blocks.filter((b) => b.attempts.length > 0 && b.finishedAt !== undefined);
  let current = ran.reduce<BlockOutcome | undefined>(
    (last, b) => (last === undefined || b.finishedAt! > last.finishedAt! ? b : last),
    undefined,
  );
  const path: string[] = [];
  const seen = new Set<string>();
  while (current && !seen.has(current.uuid)) {
    seen.add(current.uuid);
    path.unshift(current.uuid);
    const before = current.startedAt ?? Number.POSITIVE_INFINITY;
    current = (upstream[current.uuid] ?? [])
      .map((u) => byUuid.get(u))
      .filter((b): b is BlockOutcome => b?.finishedAt !== undefined && b.finishedAt <= before)
      .reduce<BlockOutcome | undefined>(
        (last, b) => (last === undefined || b.finishedAt! > last.finishedAt! ? b : last),
        undefined,
      );
  }
  return path;
}

/** The numbers above the chart. */
export interface RunSummary {
  wallMs: number;
  counts: Partial<Record<BlockOutcome['status'], number>>;
  attempts: number;
  retries: number;
  /** Attempts that failed for an infrastructure reason (`AttemptRecord.infrastructure`). */
  infrastructureFailures: number;
  /** Summed over every attempt. */
  queuedMs: number;
  pendingMs: number;
  runningMs: number;
  slowest?: { uuid: string; ms: number };
  failures: { uuid: string; reason: string; message: string }[];
}

/** Totals, the slowest block and the failures of a run. */
export function summarize(result: PipelineResult): RunSummary {
  const counts: RunSummary['counts'] = {};
  let attempts = 0;
  let infrastructureFailures = 0;
  const ms: Record<Segment['kind'], number> = { queued: 0, pending: 0, running: 0 };
  let slowest: RunSummary['slowest'];
  for (const block of result.blocks) {
    counts[block.status] = (counts[block.status] ?? 0) + 1;
    attempts += block.attempts.length;
    for (const attempt of block.attempts) {
      if (attempt.infrastructure) infrastructureFailures++;
      for (const s of attemptSegments(attempt, block.executor)) ms[s.kind] += s.to - s.from;
    }
    if (block.startedAt !== undefined && block.finishedAt !== undefined) {
      const ms = block.finishedAt - block.startedAt;
      if (!slowest || ms > slowest.ms) slowest = { uuid: block.uuid, ms };
    }
  }
  const failures = result.blocks
    .filter((b) => b.status === 'failed')
    .map((b) => ({ uuid: b.uuid, reason: b.reason ?? 'JOB_FAILED', message: b.message ?? '' }));
  const ran = result.blocks.filter((b) => b.attempts.length > 0).length;
  return {
    wallMs: result.finishedAt - result.startedAt,
    counts,
    attempts,
    retries: attempts - ran,
    infrastructureFailures,
    queuedMs: ms.queued,
    pendingMs: ms.pending,
    runningMs: ms.running,
    ...(slowest ? { slowest } : {}),
    failures,
  };
}

/**
 * The words under an attempt's bar: its number (when retried), its reason, what the cluster did to its
 * pod when it failed for an infrastructure reason (`infrastructure: evicted`), the time it was queued
 * (when it was), and its length.
 */
export function attemptLabel(attempt: AttemptRecord, attemptsOfBlock: number): string {
  const parts: string[] = [];
  if (attemptsOfBlock > 1) parts.push(`#${attempt.attempt}`);
  if (attempt.status !== 'succeeded') {
    const reason = attempt.reason ?? (attempt.status === 'cancelled' ? 'CANCELLED' : 'JOB_FAILED');
    parts.push(
      reason === 'EXIT_CODE' && attempt.exitCode !== undefined ? `EXIT_CODE ${attempt.exitCode}` : reason,
    );
  }
  if (attempt.infrastructure) parts.push(`infrastructure: ${infrastructureEvent(attempt.infrastructure)}`);
  if (attempt.queuedMs) parts.push(`queued ${formatDuration(attempt.queuedMs)}`);
  parts.push(formatDuration(attempt.finishedAt - attempt.startedAt));
  return parts.join(' · ');
}

/** What a block without attempts shows in its lane. */
export function idleNote(block: BlockOutcome, result: PipelineResult): string {
  if (block.status === 'skipped') {
    const blocker = block.blockedBy ? result.blocks.find((b) => b.uuid === block.blockedBy) : undefined;
    if (block.blockedBy) {
      const how = blocker?.status === 'skipped' ? 'was skipped' : (blocker?.status ?? 'did not succeed');
      return `skipped: upstream ${block.blockedBy} ${how}`;
    }
    return block.message ? `skipped: ${block.message.replace(/^skipped:\s*/i, '')}` : 'skipped';
  }
  if (block.status === 'cancelled') return 'cancelled before it started';
  return block.message ?? block.status;
}

/** `850 ms`, `2.0 s`, `12 s`, `3 m 05 s`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  const s = Math.round((ms % 60_000) / 1000);
  return `${Math.floor(ms / 60_000)} m ${String(s).padStart(2, '0')} s`;
}
