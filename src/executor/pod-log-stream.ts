import { ReconnectBackoff, type ReconnectBackoffOptions } from '../monitor/backoff.js';
import { type Clock, TIMER_STOPPED } from '../ports/clock.js';
import type { JobClient } from '../ports/job-client.js';
import { splitStampedLine } from '../types/log-time.js';

/** What a {@link PodLogStream} needs. */
export interface PodLogStreamOptions {
  jobClient: JobClient;
  clock: Clock;
  namespace: string;
  pod: string;
  container: string;
  /** Receives each line of the log once, in order, without its time. */
  onLine: (text: string) => void;
  /** The wait before a stream that ended while its container runs is resumed. @default 1 s doubling to 30 s */
  reconnect?: ReconnectBackoffOptions;
  /** Stops following (the lines not delivered yet can still be read with {@link PodLogStream.catchUp}). */
  signal: AbortSignal;
}

/** A stream that stayed open this long was healthy: the next resume waits the shortest backoff again. */
const HEALTHY_STREAM_MS = 1000;

/** Where a resumed read stands in the lines the server sends again. */
interface Resume {
  /** The time of the last line delivered (undefined when lines carry no time). */
  time: bigint | undefined;
  /** How many of the first lines at that time (or, without times, of all lines) were delivered already. */
  skip: number;
  /** How many pieces of the last line (after its first, see {@link PodLogStream}) were delivered already. */
  pieces: number;
  /** Unstamped pieces to drop next: those of a line dropped as sent again. */
  dropPieces: number;
}

/**
 * One pod's log, followed with `timestamps=true` and resumed after every end or break while its
 * container runs: the reconnect asks for `sinceTime` = the time of the last line delivered, and drops
 * what the server sends again (lines earlier in that second, since the API server passes `sinceTime` on
 * with whole seconds, and the lines of that very instant already delivered: they are counted), so each
 * line is delivered exactly once. Resumes wait a backoff (1 s doubling to 30 s, reset by a stream that
 * lasted), so a stream that ends at once never loops hot. Once the container has ended, a stream that
 * ends normally has delivered everything (the kubelet closes it after the last line); any other end is
 * made up by {@link catchUp}.
 *
 * A line too long for one piece (the client-node adapter cuts lines at 64 KiB) comes as a stamped
 * first piece and unstamped others: the pieces delivered of the last line are counted too, so a resume
 * cut in the middle of a long line delivers exactly its missing pieces. A server that ignores
 * `timestamps` gets the same guarantee while it keeps the whole log: the lines delivered are counted and
 * skipped on a resume from the start.
 */
export class PodLogStream {
  /** Settles when the stream stopped following (never rejects). */
  readonly done: Promise<void>;
  private lastTime: bigint | undefined;
  private lastStamp: string | undefined;
  /** Lines delivered at `lastTime` (or, while lines carry no time, all lines delivered). */
  private atLastTime = 0;
  /** Unstamped pieces delivered after the last stamped line. */
  private pieces = 0;
  private resume: Resume | undefined;
  private containerDone = false;
  private complete = false;
  private readonly wake = new AbortController();

  constructor(private readonly options: PodLogStreamOptions) {
    this.done = this.run();
  }

  /** Whether every line up to the container's end was delivered. */
  get completed(): boolean {
    return this.complete;
  }

  /** The monitor saw the container end: the next end of the stream is its real end. */
  containerEnded(): void {
    if (this.containerDone) return; // told again at every later observation of the pod
    this.containerDone = true;
    this.wake.abort(TIMER_STOPPED);
  }

  /**
   * Reads, once, what the follow did not deliver (it never connected, was cut at the end, or was
   * stopped by the drain), from the last time seen. Best effort: a failed read leaves it incomplete.
   */
  async catchUp(): Promise<void> {
    if (this.complete) return;
    const { jobClient, namespace, pod, container } = this.options;
    try {
      this.startResume();
      const text = await jobClient.readPodLog(namespace, pod, {
        container,
        timestamps: true,
        ...this.since(),
      });
      for (const line of logLines(text)) this.accept(line);
      this.complete = true;
    } catch {
      // The pod may be gone; the caller reports what it has.
    }
  }

  private async run(): Promise<void> {
    const { jobClient, clock, namespace, pod, container, signal } = this.options;
    let backoff = ReconnectBackoff.create(this.options.reconnect);
    while (!signal.aborted) {
      const started = clock.now();
      let ended = false;
      this.startResume();
      try {
        await jobClient.followPodLog(namespace, pod, (line) => this.accept(line), {
          container,
          timestamps: true,
          ...this.since(),
          // A break must not pass for the end of the log: only a stream the server ended is complete.
          failOnBrokenStream: true,
          signal,
        });
        ended = true;
      } catch {
        // A stream that breaks is resumed like one that ends; a log stream never fails the block.
      }
      if (signal.aborted) return;
      // Before the monitor saw the container end, even a clean end may be a cut (the API server ends a
      // follow cleanly when its connection to the kubelet breaks): only the resume can tell.
      if (this.containerDone) {
        this.complete = ended;
        return;
      }
      backoff = clock.now() - started >= HEALTHY_STREAM_MS ? backoff.reset() : backoff;
      await this.pause(backoff.delayMs);
      backoff = backoff.next();
    }
  }

  /** Waits `ms`, cut short when the container ends (the rest of the log can be read at once). */
  private async pause(ms: number): Promise<void> {
    try {
      await this.options.clock.sleep(ms, AbortSignal.any([this.options.signal, this.wake.signal]));
    } catch {
      // Woken or stopped.
    }
  }

  private since(): { sinceTime?: string } {
    return this.lastStamp === undefined ? {} : { sinceTime: this.lastStamp };
  }

  /** Before each (re)read: what the server will send again. */
  private startResume(): void {
    this.resume =
      this.atLastTime > 0
        ? { time: this.lastTime, skip: this.atLastTime, pieces: this.pieces, dropPieces: 0 }
        : undefined;
  }

  private accept(line: string): void {
    const stamped = splitStampedLine(line);
    if (this.resendOf(stamped?.time)) return;
    if (!stamped) {
      if (this.lastTime === undefined) this.atLastTime++;
      else this.pieces++;
      this.options.onLine(line);
      return;
    }
    if (this.lastTime === undefined || stamped.time > this.lastTime) {
      this.lastTime = stamped.time;
      this.lastStamp = stamped.stamp;
      this.atLastTime = 1;
    } else if (stamped.time === this.lastTime) {
      this.atLastTime++;
    }
    this.pieces = 0;
    this.options.onLine(stamped.text);
  }

  /** Whether a line (or a piece: no time) read after a resume was delivered before it. */
  private resendOf(time: bigint | undefined): boolean {
    const resume = this.resume;
    if (!resume) return false;
    if (resume.time === undefined) {
      // Lines without times: the first `skip` lines of a read from the start were delivered.
      if (resume.skip > 0) {
        resume.skip--;
        return true;
      }
    } else if (time === undefined) {
      if (resume.dropPieces > 0) {
        resume.dropPieces--;
        return true;
      }
    } else if (time < resume.time) {
      resume.dropPieces = Number.POSITIVE_INFINITY;
      return true;
    } else if (time === resume.time && resume.skip > 0) {
      resume.skip--;
      // Every piece of an earlier line of that instant was delivered; of the last one, `pieces`.
      resume.dropPieces = resume.skip === 0 ? resume.pieces : Number.POSITIVE_INFINITY;
      return true;
    }
    // Past what was delivered: from here on every line is new.
    this.resume = undefined;
    return false;
  }
}

/** The lines of a log read: split on newlines, without the empty string after the last one. */
export function logLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
}
