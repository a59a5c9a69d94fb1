/** Which of the CLI's own streams could not be written, and why. */
export interface OutputLoss {
  /** The stream. */
  readonly stream: 'stdout' | 'stderr';
  /** The error's code: `EPIPE` when its reader went away (`| head`, a closed terminal, a dead log collector). */
  readonly code: string | undefined;
}

/** The streams an {@link OutputGuard} watches. */
export interface GuardedStreams {
  /** Where results and progress go. */
  stdout: NodeJS.EventEmitter;
  /** Where errors and the cancel notice go. */
  stderr: NodeJS.EventEmitter;
}

/**
 * Turns a write error on stdout or stderr (EPIPE above all: `run ... | head`, a log collector that
 * died, a terminal closed) from an unhandled `'error'` event, which would crash the CLI and leave a
 * run's Jobs running unfollowed, into an event the CLI handles like the user going away: `run` cancels
 * (deleting what it created) and the exit code says the output was lost (docs/cli.md).
 *
 * Writes after the loss still go to the stream and fail quietly (Node reports each one as another
 * `'error'`, handled here), so no caller has to check before writing.
 */
export class OutputGuard {
  private first: OutputLoss | undefined;
  private readonly listeners = new Set<(loss: OutputLoss) => void>();

  private constructor() {}

  /**
   * Watches `streams` for the rest of the process's life: the listeners stay, since every later
   * write to a broken pipe fails again.
   */
  static install(streams: GuardedStreams): OutputGuard {
    const guard = new OutputGuard();
    for (const stream of ['stdout', 'stderr'] as const) {
      streams[stream].on('error', (error: NodeJS.ErrnoException) => guard.lose({ stream, code: error.code }));
    }
    return guard;
  }

  /** The first loss, if any stream broke. */
  get lost(): OutputLoss | undefined {
    return this.first;
  }

  /**
   * Calls `listener` once, on the first loss (at once if one happened already).
   * @returns a function that removes the listener.
   */
  onLost(listener: (loss: OutputLoss) => void): () => void {
    if (this.first) {
      listener(this.first);
      return () => undefined;
    }
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private lose(loss: OutputLoss): void {
    if (this.first) return;
    this.first = loss;
    for (const listener of this.listeners) listener(loss);
    this.listeners.clear();
  }
}

/** What to tell the user (on the other stream) when one stream broke. */
export function describeLoss(loss: OutputLoss): string {
  if (loss.code === 'EPIPE') return `${loss.stream} closed`;
  return `${loss.stream} cannot be written${loss.code ? ` (${loss.code})` : ''}`;
}
