import type { BlockRunStatus, PipelineEvent } from '../executor/pipeline-types.js';
import { type InfrastructureCause, infrastructureEvent } from '../monitor/job-outcome.js';

interface Row {
  status: BlockRunStatus;
  attempt: number;
  since?: number;
  until?: number;
  /** Why the last attempt failed, kept for the retry line. */
  failure?: string;
  /** Set while the attempt runs that follows an infrastructure failure: what happened to the one before. */
  infrastructure?: string;
}

const FINAL: ReadonlySet<BlockRunStatus> = new Set(['succeeded', 'failed', 'skipped', 'cancelled']);
const COLOR: Partial<Record<BlockRunStatus, string>> = {
  succeeded: '\x1b[32m',
  failed: '\x1b[31m',
  queued: '\x1b[35m',
  running: '\x1b[36m',
  retrying: '\x1b[33m',
  skipped: '\x1b[90m',
  cancelled: '\x1b[90m',
};
const RESET = '\x1b[0m';

/** How a {@link ProgressView} draws. */
export interface ProgressOptions {
  /** Colour the states (off with `NO_COLOR`, and whenever the output is not a terminal). */
  color: boolean;
}

/**
 * Live progress of a pipeline run: on a terminal, one row per block redrawn in place with its state
 * and elapsed time; otherwise one plain line per change (for logs and CI). `queued` is a Job held by
 * its queue (Kueue), `pending` one admitted or created with no container running yet. A state never
 * goes back within an attempt but to `queued` (a preemption): when a pod ends, the monitor reports
 * `pending` until the Job starts another pod or fails, and that step back is not shown. A retry is one
 * line; one after an infrastructure failure says so, and that it does not count against retry_config.
 */
export class ProgressView {
  private readonly rows = new Map<string, Row>();
  private drawn = 0;
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly blocks: readonly string[],
    private readonly now: () => number,
    private readonly options: ProgressOptions = { color: false },
  ) {
    for (const b of blocks) this.rows.set(b, { status: 'waiting', attempt: 1 });
    if (this.live) {
      this.draw();
      this.timer = setInterval(() => this.draw(), 250);
      this.timer.unref();
    }
  }

  private get live(): boolean {
    return this.out.isTTY === true;
  }

  /** Feeds one pipeline event. */
  onEvent(event: PipelineEvent): void {
    if (event.type === 'retry-scheduled') {
      const row = this.rows.get(event.blockUuid);
      const cause = event.infrastructure;
      if (row && cause) row.infrastructure = `${infrastructureEvent(cause)} (infrastructure)`;
      if (this.live) this.draw();
      else
        this.line(`${event.blockUuid}: ${retryLine(event.nextAttempt, event.delayMs, row?.failure, cause)}`);
      return;
    }
    if (event.type !== 'block-status') return;
    const row = this.rows.get(event.blockUuid);
    if (!row || (row.status === event.status && row.attempt === event.attempt)) return;
    if (event.status === 'pending' && row.status === 'running' && row.attempt === event.attempt) return;
    if (event.status === 'submitted' && row.since === undefined) row.since = event.at;
    if (FINAL.has(event.status)) row.until = event.at;
    else delete row.until;
    if (FINAL.has(event.status) || (event.status === 'retrying' && event.attempt !== row.attempt))
      delete row.infrastructure;
    row.status = event.status;
    row.attempt = event.attempt;
    if (event.status === 'retrying') {
      // Printed once, with the delay, when the retry is scheduled (the next event).
      if (event.message) row.failure = event.message;
      else delete row.failure;
      if (this.live) this.draw();
      return;
    }
    if (this.live) this.draw();
    else this.line(`${event.blockUuid}: ${event.status}${attemptSuffix(event.attempt)}${detail(event)}`);
  }

  /** Prints a log line of a block above the live rows. */
  log(blockUuid: string, text: string): void {
    this.line(`  [${blockUuid}] ${text}`);
  }

  /** Stops redrawing and leaves the final rows on screen. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.live) this.draw();
  }

  private line(text: string): void {
    if (this.live) this.clear();
    this.out.write(`${text}\n`);
    if (this.live) this.draw();
  }

  private clear(): void {
    if (this.drawn > 0) this.out.write(`\x1b[${this.drawn}A\x1b[0J`);
    this.drawn = 0;
  }

  private draw(): void {
    this.clear();
    const width = Math.max(...this.blocks.map((b) => b.length), 5);
    const lines = this.blocks.map((b) => {
      const row = this.rows.get(b)!;
      const elapsed =
        row.since !== undefined ? `${(((row.until ?? this.now()) - row.since) / 1000).toFixed(1)} s` : '';
      const attempt = row.attempt > 1 ? ` #${row.attempt}` : '';
      const state = (row.status + attempt).padEnd(14);
      const colour = this.options.color ? COLOR[row.status] : undefined;
      const note = row.infrastructure ? `  after attempt ${row.attempt - 1} ${row.infrastructure}` : '';
      return `  ${b.padEnd(width)}  ${colour ? `${colour}${state}${RESET}` : state} ${elapsed.padEnd(8)}${note}`.trimEnd();
    });
    this.out.write(`${lines.join('\n')}\n`);
    this.drawn = lines.length;
  }
}

/**
 * The line of a retry: `attempt 1 failed, retry 2 in 1.0 s — <why>`, or after an infrastructure failure
 * `attempt 1 evicted (infrastructure), retry 2 at once — does not count against retry_config — Evicted: <message>`.
 */
function retryLine(
  next: number,
  delayMs: number,
  failure: string | undefined,
  cause: InfrastructureCause | undefined,
): string {
  const when = delayMs === 0 ? 'at once' : `in ${(delayMs / 1000).toFixed(1)} s`;
  if (!cause) return `attempt ${next - 1} failed, retry ${next} ${when}${failure ? ` — ${failure}` : ''}`;
  const said = `${cause.reason}${cause.message ? `: ${cause.message}` : ''}`;
  return `attempt ${next - 1} ${infrastructureEvent(cause)} (infrastructure), retry ${next} ${when} — does not count against retry_config — ${said}`;
}

function attemptSuffix(attempt: number): string {
  return attempt > 1 ? ` (attempt ${attempt})` : '';
}

/** The message of a state change, without a leading word that repeats the state ("skipped — Skipped: ..."). */
function detail(event: Extract<PipelineEvent, { type: 'block-status' }>): string {
  if (!event.message || event.status === 'succeeded') return '';
  const prefix = new RegExp(`^${event.status}:\\s*`, 'i');
  return ` — ${event.message.replace(prefix, '')}`;
}

/** Whether to colour output: a terminal, and `NO_COLOR` unset or empty (https://no-color.org). */
export function useColor(out: { isTTY?: boolean }, env: Record<string, string | undefined>): boolean {
  return out.isTTY === true && !env.NO_COLOR;
}
