import type { AttemptRecord, BlockOutcome, PipelineResult } from '../../executor/pipeline-types.js';

/**
 * One phase of an attempt on the time axis. `pending`: submitted, no container running yet (pod being
 * scheduled, image pulled); `running`: the container ran. A `queued` phase (a suspended Job waiting for
 * admission) will come first once attempts record when they were admitted.
 */
export interface Segment {
  kind: 'queued' | 'pending' | 'running';
  from: number;
  to: number;
}

/**
 * The times of an attempt the chart uses. `queuedUntil` (when a suspended Job was admitted) is not
 * recorded by the executor yet; when it is, {@link AttemptRecord} carries it and the chart shows it.
 */
export type AttemptTimes = Pick<
  AttemptRecord,
  'startedAt' | 'runningAt' | 'finishedAt' | 'status' | 'exitCode'
> & {
  queuedUntil?: number;
};

/**
 * The phases of one attempt, in order, empty ones left out. Without `runningAt` the attempt either
 * never started a container (all pending: an image that cannot be pulled, say) or its start was not
 * seen (a local block, a succeeded or exited attempt adopted from an earlier run): then it is all running.
 */
export function attemptSegments(attempt: AttemptTimes, executor: BlockOutcome['executor']): Segment[] {
  const { startedAt, finishedAt } = attempt;
  const clamp = (t: number) => Math.min(Math.max(t, startedAt), finishedAt);
  const queuedTo = attempt.queuedUntil !== undefined ? clamp(attempt.queuedUntil) : startedAt;
  const ran =
    attempt.runningAt !== undefined ||
    executor === 'local' ||
    attempt.status === 'succeeded' ||
    attempt.exitCode !== undefined;
  const runFrom =
    attempt.runningAt !== undefined
      ? clamp(Math.max(attempt.runningAt, queuedTo))
      : ran
        ? queuedTo
        : finishedAt;
  const segments: Segment[] = [
    { kind: 'queued', from: startedAt, to: queuedTo },
    { kind: 'pending', from: queuedTo, to: runFrom },
    { kind: 'running', from: runFrom, to: finishedAt },
  ];
  const shown = segments.filter((s) => s.to > s.from);
  // A zero-length attempt still gets one (minimum-width) bar, in the phase it ended in.
  return shown.length > 0 ? shown : [{ kind: ran ? 'running' : 'pending', from: startedAt, to: finishedAt }];
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
  /** Summed over every attempt. */
  pendingMs: number;
  runningMs: number;
  slowest?: { uuid: string; ms: number };
  failures: { uuid: string; reason: string; message: string }[];
}

/** Totals, the slowest block and the failures of a run. */
export function summarize(result: PipelineResult): RunSummary {
  const counts: RunSummary['counts'] = {};
  let attempts = 0;
  let pendingMs = 0;
  let runningMs = 0;
  let slowest: RunSummary['slowest'];
  for (const block of result.blocks) {
    counts[block.status] = (counts[block.status] ?? 0) + 1;
    attempts += block.attempts.length;
    for (const attempt of block.attempts) {
      for (const s of attemptSegments(attempt, block.executor)) {
        if (s.kind === 'running') runningMs += s.to - s.from;
        else pendingMs += s.to - s.from;
      }
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
    pendingMs,
    runningMs,
    ...(slowest ? { slowest } : {}),
    failures,
  };
}

/** The words under an attempt's bar: its number (when retried), its reason and its length. */
export function attemptLabel(attempt: AttemptRecord, attemptsOfBlock: number): string {
  const parts: string[] = [];
  if (attemptsOfBlock > 1) parts.push(`#${attempt.attempt}`);
  if (attempt.status !== 'succeeded') {
    const reason = attempt.reason ?? (attempt.status === 'cancelled' ? 'CANCELLED' : 'JOB_FAILED');
    parts.push(
      reason === 'EXIT_CODE' && attempt.exitCode !== undefined ? `EXIT_CODE ${attempt.exitCode}` : reason,
    );
  }
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
