import { formatLogTime } from '../../../types/log-time.js';

/** One stored log line. */
interface LogLine {
  /** When it was written (ns since the epoch). */
  time: bigint;
  text: string;
}

interface PodLog {
  lines: LogLine[];
  closed: boolean;
  followers: Set<LogFollower>;
}

interface LogFollower {
  window: LogWindow;
  onLine: (line: string) => void;
  end: () => void;
  fail: (error: unknown) => void;
}

/** Which lines to return, and how. */
export interface LogWindow {
  /** Only the last N lines. */
  tailLines?: number;
  /** Only lines written at or after this time (ns since the epoch). */
  sinceTime?: bigint;
  /** Prefix each line with its time (RFC 3339, nine fraction digits) and a space. */
  timestamps?: boolean;
}

/**
 * How the lines' times are taken: `distinct` makes every line of a pod at least 1 ns later than the
 * one before (deterministic resumes in tests); `clock` takes the clock's millisecond as is, so lines
 * written together share their time, as lines flushed together do on a node.
 */
export type LogTimestamps = 'distinct' | 'clock';

/**
 * The container logs of every pod: bounded per pod (oldest lines dropped first), readable at once and
 * followable until the container ends; streams can be cut, as a proxy or an API server restart does.
 */
export class PodLogs {
  private readonly logs = new Map<string, PodLog>();

  /**
   * @param maxLines lines kept per pod. @default 10_000
   * @param timestamps how lines are timed. @default 'distinct'
   */
  constructor(
    private readonly maxLines = 10_000,
    private readonly timestamps: LogTimestamps = 'distinct',
  ) {}

  /** Appends one line (without its newline), written at `at` (ms), to a pod's log and hands it to the followers. */
  append(podKey: string, text: string, at: number): void {
    const log = this.open(podKey);
    if (log.closed) return;
    const last = log.lines.at(-1)?.time;
    const clockTime = BigInt(Math.floor(at)) * 1_000_000n;
    const time =
      this.timestamps === 'distinct' && last !== undefined && clockTime <= last ? last + 1n : clockTime;
    const line = { time, text };
    log.lines.push(line);
    if (log.lines.length > this.maxLines) log.lines.splice(0, log.lines.length - this.maxLines);
    for (const follower of log.followers) follower.onLine(render(line, follower.window));
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

  /**
   * Cuts every open follow (of one pod, or of all): each ends as if the connection was closed, or
   * rejects with `error` (a broken connection). The containers go on writing.
   */
  cut(options: { podKey?: string; error?: unknown } = {}): number {
    let cut = 0;
    for (const [key, log] of this.logs) {
      if (options.podKey !== undefined && key !== options.podKey) continue;
      for (const follower of [...log.followers]) {
        log.followers.delete(follower);
        if (options.error === undefined) follower.end();
        else follower.fail(options.error);
        cut++;
      }
    }
    return cut;
  }

  /** The lines of a pod's log within `window`. */
  read(podKey: string, window: LogWindow = {}): string[] {
    return select(this.logs.get(podKey)?.lines ?? [], window).map((line) => render(line, window));
  }

  /**
   * Replays the lines within `window`, then hands over each new line until the container ends, the
   * stream is cut or `signal` aborts. Resolves on end or cut; rejects with the signal's reason on abort,
   * with the cut's error on an abrupt cut.
   */
  follow(
    podKey: string,
    onLine: (line: string) => void,
    window: LogWindow,
    signal?: AbortSignal,
  ): Promise<void> {
    const log = this.open(podKey);
    for (const line of select(log.lines, window)) onLine(render(line, window));
    if (log.closed) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const follower: LogFollower = {
        window,
        onLine,
        end: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        fail: (error) => {
          signal?.removeEventListener('abort', onAbort);
          reject(error);
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

function select(lines: readonly LogLine[], window: LogWindow): LogLine[] {
  const since = window.sinceTime;
  const recent = since === undefined ? lines : lines.filter((l) => l.time >= since);
  return window.tailLines === undefined
    ? [...recent]
    : recent.slice(Math.max(0, recent.length - window.tailLines));
}

function render(line: LogLine, window: LogWindow): string {
  return window.timestamps ? `${formatLogTime(line.time)} ${line.text}` : line.text;
}
