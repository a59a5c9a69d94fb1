import type { BlockRunStatus, PipelineEvent } from '../executor/pipeline-types.js';

interface Row {
  status: BlockRunStatus;
  attempt: number;
  since?: number;
  until?: number;
}

const FINAL: ReadonlySet<BlockRunStatus> = new Set(['succeeded', 'failed', 'skipped', 'cancelled']);
const COLOR: Partial<Record<BlockRunStatus, string>> = {
  succeeded: '\x1b[32m',
  failed: '\x1b[31m',
  running: '\x1b[36m',
  retrying: '\x1b[33m',
  skipped: '\x1b[90m',
  cancelled: '\x1b[90m',
};

/**
 * Live progress of a pipeline run: on a terminal, one row per block redrawn in place with its state
 * and elapsed time; otherwise one plain line per change (for logs and CI).
 */
export class ProgressView {
  private readonly rows = new Map<string, Row>();
  private drawn = 0;
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly blocks: readonly string[],
    private readonly now: () => number,
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
      if (!this.live)
        this.line(`${event.blockUuid}: retry ${event.nextAttempt} in ${(event.delayMs / 1000).toFixed(1)} s`);
      return;
    }
    if (event.type !== 'block-status') return;
    const row = this.rows.get(event.blockUuid);
    if (!row || (row.status === event.status && row.attempt === event.attempt)) return;
    if (event.status === 'submitted' && row.since === undefined) row.since = event.at;
    if (FINAL.has(event.status)) row.until = event.at;
    else delete row.until;
    row.status = event.status;
    row.attempt = event.attempt;
    if (this.live) this.draw();
    else
      this.line(
        `${event.blockUuid}: ${event.status}${event.attempt > 1 ? ` (attempt ${event.attempt})` : ''}${event.message && event.status !== 'succeeded' ? ` — ${event.message}` : ''}`,
      );
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
      return `  ${b.padEnd(width)}  ${COLOR[row.status] ?? ''}${(row.status + attempt).padEnd(14)}\x1b[0m ${elapsed}`;
    });
    this.out.write(`${lines.join('\n')}\n`);
    this.drawn = lines.length;
  }
}
