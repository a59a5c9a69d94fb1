/**
 * One pod's resumable log stream against a server that behaves as the API server and kubelet do on a
 * resume: `sinceTime` counts from its whole second (lines earlier in that second come again), lines of
 * one instant come again, a long line comes as a stamped first piece and unstamped others, and a
 * stream can be cut after any line.
 */
import { describe, expect, it } from 'vitest';
import { logLines, PodLogStream } from '../../src/executor/pod-log-stream.js';
import type { JobClient, LogOptions } from '../../src/ports/job-client.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { formatLogTime, parseLogTime } from '../../src/types/log-time.js';

const T = 1_700_000_000n * 1_000_000_000n;

/** One line of the server's log: its time, and its pieces (more than one for a long line). */
interface ServerLine {
  time: bigint;
  pieces: string[];
}

/** A log endpoint over `lines`, cutting each follow after `perConnection` pieces. */
class CuttingServer {
  readonly requests: (LogOptions & { method: 'follow' | 'read' })[] = [];
  private ended = false;

  constructor(
    private readonly lines: ServerLine[],
    private readonly perConnection: number,
    private readonly stamps = true,
    /** Break (reject) every follow after `perConnection` pieces, even once the container ended. */
    private readonly alwaysBreak = false,
  ) {}

  endContainer(): void {
    this.ended = true;
  }

  get jobClient(): JobClient {
    return {
      followPodLog: async (
        _ns: string,
        _pod: string,
        onLine: (l: string) => void,
        options: LogOptions = {},
      ) => {
        this.requests.push({ ...options, method: 'follow' });
        const sent = this.from(options);
        // The kubelet closes the stream after the last line once the container ended; before, it is cut.
        const count = this.ended && !this.alwaysBreak ? sent.length : this.perConnection;
        for (const piece of sent.slice(0, count)) onLine(piece);
        if (this.alwaysBreak) throw new Error('read ECONNRESET');
      },
      readPodLog: async (_ns: string, _pod: string, options: LogOptions = {}) => {
        this.requests.push({ ...options, method: 'read' });
        return this.from(options)
          .map((l) => `${l}\n`)
          .join('');
      },
    } as unknown as JobClient;
  }

  /** What the server sends for a request: from the whole second of `sinceTime`, stamped if asked. */
  private from(options: LogOptions): string[] {
    const since = options.sinceTime === undefined ? undefined : parseLogTime(options.sinceTime)!;
    const second = since === undefined ? undefined : since - (since % 1_000_000_000n);
    return this.lines
      .filter((l) => second === undefined || l.time >= second)
      .flatMap((l) =>
        l.pieces.map((p, i) =>
          i === 0 && this.stamps && options.timestamps ? `${formatLogTime(l.time)} ${p}` : p,
        ),
      );
  }
}

/** Follows with cuts until the container ended and the stream completed; returns what was delivered. */
async function follow(server: CuttingServer, endAfterMs = 120_000) {
  const clock = new FakeClock();
  const delivered: string[] = [];
  const stop = new AbortController();
  const stream = new PodLogStream({
    jobClient: server.jobClient,
    clock,
    namespace: 'ns',
    pod: 'p',
    container: 'c',
    onLine: (l) => delivered.push(l),
    signal: stop.signal,
  });
  await clock.advance(endAfterMs);
  server.endContainer();
  stream.containerEnded();
  await clock.advance(60_000);
  stop.abort();
  await stream.done;
  await stream.catchUp();
  return { delivered, completed: stream.completed };
}

const line = (ms: number, text: string, extraNs = 0): ServerLine => ({
  time: T + BigInt(ms) * 1_000_000n + BigInt(extraNs),
  pieces: [text],
});

describe('PodLogStream', () => {
  it('drops what a resume sends again: earlier lines of the same second, and the lines of that instant', async () => {
    const lines = [
      line(0, 'a'),
      line(100, 'b'),
      line(100, 'c'), // same instant as b
      line(100, 'd'),
      line(900, 'e'),
      line(1500, 'f'),
      line(1500, 'g'),
      line(2100, 'h'),
    ];
    for (const perConnection of [1, 2, 3, 5]) {
      const server = new CuttingServer(lines, perConnection);
      const { delivered } = await follow(server);
      expect(delivered, `cut after ${perConnection}`).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']);
      expect(server.requests[0]).toMatchObject({ timestamps: true, container: 'c' });
      expect(server.requests[0]?.sinceTime).toBeUndefined();
      expect(server.requests[1]?.sinceTime).toBe(formatLogTime(lines[perConnection - 1]!.time));
    }
  });

  it('resumes a long line cut after some of its pieces with exactly the missing pieces', async () => {
    const long: ServerLine = {
      time: T + 5_000_000n,
      pieces: ['long-1 […]', 'long-2 […]', 'long-3 […]', 'long-4'],
    };
    const lines = [line(0, 'before'), long, line(10, 'after')];
    for (const perConnection of [1, 2, 3, 4, 5]) {
      const { delivered } = await follow(new CuttingServer(lines, perConnection));
      expect(delivered, `cut after ${perConnection}`).toEqual([
        'before',
        'long-1 […]',
        'long-2 […]',
        'long-3 […]',
        'long-4',
        'after',
      ]);
    }
  });

  it('counts lines on a server that does not stamp them, and skips them on a resume from the start', async () => {
    const lines = ['a', 'b', 'c', 'd', 'e'].map((t, i) => line(i, t));
    const server = new CuttingServer(lines, 2, false);
    const { delivered } = await follow(server);
    expect(delivered).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(server.requests.every((r) => r.sinceTime === undefined)).toBe(true);
  });

  it('is complete when the stream ends after the container did; else catchUp reads the rest once', async () => {
    const lines = [line(0, 'a'), line(1, 'b'), line(2, 'c')];
    const complete = await follow(new CuttingServer(lines, 100));
    expect(complete).toEqual({ delivered: ['a', 'b', 'c'], completed: true });
    // Every follow breaks after two lines (the first one sent again): two follows while the container
    // runs, one after it ended; the read gets the rest.
    const five = ['a', 'b', 'c', 'd', 'e'].map((t, i) => line(i * 1000, t));
    const server = new CuttingServer(five, 2, true, true);
    const broken = await follow(server, 1500);
    expect(broken).toEqual({ delivered: ['a', 'b', 'c', 'd', 'e'], completed: true });
    expect(server.requests.map((r) => r.method)).toEqual(['follow', 'follow', 'follow', 'read']);
    expect(server.requests.at(-1)).toMatchObject({
      timestamps: true,
      sinceTime: formatLogTime(five[3]!.time),
    });
  });

  it('delivers lines of one stream whose times go back (stdout and stderr interleaved) without dropping them', async () => {
    const lines = [line(10, 'x'), line(5, 'y'), line(20, 'z')];
    const { delivered } = await follow(new CuttingServer(lines, 100));
    expect(delivered).toEqual(['x', 'y', 'z']);
  });

  it('logLines splits a read into lines, the last one with or without its newline', () => {
    expect(logLines('')).toEqual([]);
    expect(logLines('a\nb\n')).toEqual(['a', 'b']);
    expect(logLines('a\n\nb')).toEqual(['a', '', 'b']);
  });
});
