/** One stored log line. */
interface LogLine {
  /** When it was written (ms since the epoch). */
  at: number;
  text: string;
}

interface PodLog {
  lines: LogLine[];
  closed: boolean;
  followers: Set<LogFollower>;
}

interface LogFollower {
  onLine: (line: string) => void;
  end: () => void;
}

/** Which lines to return. */
export interface LogWindow {
  /** Only the last N lines. */
  tailLines?: number;
  /** Only lines written after this time (ms since the epoch). */
  sinceMs?: number;
}

/**
 * The container logs of every pod: bounded per pod (oldest lines dropped first), readable at once and
 * followable until the container ends.
 */
export class PodLogs {
  private readonly logs = new Map<string, PodLog>();

  /** @param maxLines lines kept per pod. @default 10_000 */
  constructor(private readonly maxLines = 10_000) {}

  /** Appends one line (without its newline) to a pod's log and hands it to the followers. */
  append(podKey: string, text: string, at: number): void {
    const log = this.open(podKey);
    if (log.closed) return;
    log.lines.push({ at, text });
    if (log.lines.length > this.maxLines) log.lines.splice(0, log.lines.length - this.maxLines);
    for (const follower of log.followers) follower.onLine(text);
  }

  /** Marks a pod's container as ended: followers end after the lines already written. */
  close(podKey: string): void {
    const log = this.open(podKey);
    log.closed = true;
    for (const follower of [...log.followers]) follower.end();
    log.followers.clear();
  }

  /** Forgets a pod's log (the pod was deleted); open followers end. */
  forget(podKey: string): void {
    this.close(podKey);
    this.logs.delete(podKey);
  }

  /** The lines of a pod's log within `window`. */
  read(podKey: string, window: LogWindow = {}): string[] {
    return select(this.logs.get(podKey)?.lines ?? [], window);
  }

  /**
   * Replays the lines within `window`, then hands over each new line until the container ends or
   * `signal` aborts. Resolves on end; rejects with the signal's reason on abort.
   */
  follow(
    podKey: string,
    onLine: (line: string) => void,
    window: LogWindow,
    signal?: AbortSignal,
  ): Promise<void> {
    const log = this.open(podKey);
    for (const line of select(log.lines, window)) onLine(line);
    if (log.closed) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const follower: LogFollower = {
        onLine,
        end: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        log.followers.delete(follower);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      log.followers.add(follower);
    });
  }

  private open(podKey: string): PodLog {
    let log = this.logs.get(podKey);
    if (!log) {
      log = { lines: [], closed: false, followers: new Set() };
      this.logs.set(podKey, log);
    }
    return log;
  }
}

function select(lines: readonly LogLine[], window: LogWindow): string[] {
  const since = window.sinceMs;
  const recent = since === undefined ? lines : lines.filter((l) => l.at > since);
  const tail =
    window.tailLines === undefined ? recent : recent.slice(Math.max(0, recent.length - window.tailLines));
  return tail.map((l) => l.text);
}
