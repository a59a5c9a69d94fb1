/**
 * Logs that resume: a follow that ends or breaks while the container still runs is resumed with
 * `sinceTime` (dropping the lines the server sends again), a follow that never connected or ended
 * early is made up once the pod ends, so every line reaches the sink once and `lastLogLines` are the
 * pod's real last lines; a failed init container's lines are in the result.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { K8sBlockExecutor } from '../../src/executor/block-executor.js';
import type { BlockResult } from '../../src/executor/types.js';
import type { JobClient, LogOptions } from '../../src/ports/job-client.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { InMemoryJobClient, type InMemoryJobClientOptions } from '../../src/testing/in-memory-job-client.js';
import { StaticConfigSource } from '../../src/testing/static-config-source.js';
import { drive } from '../helpers/drive.js';
import { projectFiles } from '../helpers/project.js';
import { job, pod, T0, terminated, waiting } from '../monitor/kube-fixtures.js';
import { ScriptedJobClient } from '../monitor/scripted-job-client.js';

const NAME = 'mage-data-prep-block-42';
const RUN = { pipelineUuid: 'etl', blockUuid: 'load', pipelineRunId: 7, blockRunId: 42 };

/** A JobClient whose log follow returns the current content and closes instead of following. */
class ShortLivedLogStreams extends InMemoryJobClient {
  follows = 0;
  override async followPodLog(
    namespace: string,
    pod: string,
    onLine: (line: string) => void,
    options?: LogOptions,
  ): Promise<void> {
    this.follows++;
    const { signal: _s, ...rest } = options ?? {};
    const text = await this.readPodLog(namespace, pod, rest);
    for (const line of text.split('\n').slice(0, -1)) onLine(line);
  }
}

/** A JobClient whose log follow never connects before the block ends (queued behind the rate limiter, as in
 * docs/performance.md's "0 / 600 lines" row), then is aborted by the drain. */
class FollowNeverConnects extends InMemoryJobClient {
  override followPodLog(
    _ns: string,
    _pod: string,
    _onLine: (l: string) => void,
    options?: LogOptions,
  ): Promise<void> {
    return new Promise((_resolve, reject) => {
      options?.signal?.addEventListener('abort', () => reject(options.signal?.reason), { once: true });
    });
  }
}

/**
 * A follow that never ends, as KWOK's: it delivers the log as the container writes it, then stays open
 * after the container ended until the caller stops it.
 */
class NeverEndingFollows extends InMemoryJobClient {
  override async followPodLog(ns: string, pod: string, onLine: (l: string) => void, options?: LogOptions) {
    await super.followPodLog(ns, pod, onLine, options);
    const signal = options?.signal;
    await new Promise<void>((_resolve, reject) => {
      if (signal?.aborted) reject(signal.reason);
      signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
    });
  }
}

/** A server that does not stamp lines (an old adapter or proxy ignoring `timestamps`). */
class NoTimestamps extends InMemoryJobClient {
  override followPodLog(ns: string, pod: string, onLine: (l: string) => void, options?: LogOptions) {
    const { timestamps: _t, ...rest } = options ?? {};
    return super.followPodLog(ns, pod, onLine, rest);
  }
  override readPodLog(ns: string, pod: string, options?: LogOptions) {
    const { timestamps: _t, ...rest } = options ?? {};
    return super.readPodLog(ns, pod, rest);
  }
}

function setup<C extends JobClient>(jobClient: C, clock: FakeClock, logDrainMs = 100) {
  const executor = new K8sBlockExecutor({
    configSource: new StaticConfigSource(projectFiles('  - uuid: load\n    executor_type: k8s\n')),
    jobClient,
    clock,
    logDrainMs,
  });
  return executor;
}

const logReads = (client: InMemoryJobClient) => client.calls.filter((c) => c.method === 'readPodLog').length;

const numbered = (n: number, prefix = 'line') => Array.from({ length: n }, (_, i) => `${prefix} ${i + 1}`);

afterEach(() => {
  vi.restoreAllMocks();
});

describe('a log follow that ends while the container still runs', () => {
  it('keeps streaming (re-follows with sinceTime) and reports the last lines of the failed pod', async () => {
    const clock = new FakeClock();
    const jobClient = new ShortLivedLogStreams({ clock });
    jobClient.script(NAME, [
      { runMs: 3000, logs: ['starting', 'step 1 ok', 'step 2 ok', 'failing with 3'], exitCode: 3 },
    ]);
    const executor = setup(jobClient, clock);
    const streamed: string[] = [];
    const result = await drive(clock, executor.execute(RUN, { onLog: (l) => streamed.push(l.line) }));
    executor.close();

    expect(result.status).toBe('failed');
    expect(result.reason).toBe('EXIT_CODE');
    expect(result.exitCode).toBe(3);
    expect(result.lastLogLines).toContain('failing with 3');
    expect(streamed).toEqual(['starting', 'step 1 ok', 'step 2 ok', 'failing with 3']);
  });

  it('does not loop hot on a stream that ends at once: resumes wait 1 s doubling to 30 s', async () => {
    const clock = new FakeClock();
    const jobClient = new ShortLivedLogStreams({ clock });
    jobClient.script(NAME, [{ runMs: 10 * 60_000, logs: ['only line'] }]);
    const executor = setup(jobClient, clock);
    const streamed: string[] = [];
    const result = await drive(clock, executor.execute(RUN, { onLog: (l) => streamed.push(l.line) }), 1000);
    executor.close();
    expect(result.status).toBe('succeeded');
    expect(streamed).toEqual(['only line']);
    // 1+2+4+8+16 s, then every 30 s over 10 min: about 25 follows, not thousands.
    expect(jobClient.follows).toBeGreaterThan(15);
    expect(jobClient.follows).toBeLessThan(30);
  });

  it('still reports the last lines of a failed pod when the follow never connected, and hands them to the sink', async () => {
    const clock = new FakeClock();
    const jobClient = new FollowNeverConnects({ clock });
    jobClient.script(NAME, [{ runMs: 1000, logs: ['starting', 'failing with 3'], exitCode: 3 }]);
    const executor = setup(jobClient, clock);
    const streamed: string[] = [];
    const result = await drive(clock, executor.execute(RUN, { onLog: (l) => streamed.push(l.line) }));
    executor.close();
    expect(result.reason).toBe('EXIT_CODE');
    expect(result.lastLogLines).toEqual(['starting', 'failing with 3']);
    expect(streamed).toEqual(['starting', 'failing with 3']);
  });
});

describe('a follow still open when the drain ends (KWOK: log follows never end)', () => {
  it('was live and caught up: every line once, the last lines, and no read after the drain', async () => {
    const clock = new FakeClock();
    const jobClient = new NeverEndingFollows({ clock });
    const logs = ['starting', 'step 1 ok', 'failing with 3'];
    jobClient.script(NAME, [{ runMs: 3000, logs, exitCode: 3 }]);
    // The default drain: 2 s after the final state, the follow has been quiet for well over 1 s.
    const executor = setup(jobClient, clock, 2000);
    const streamed: string[] = [];
    const result = await drive(clock, executor.execute(RUN, { onLog: (l) => streamed.push(l.line) }));
    executor.close();
    expect(result.reason).toBe('EXIT_CODE');
    expect(streamed).toEqual(logs);
    expect(result.lastLogLines).toEqual(logs);
    // Neither a catch-up read nor the tail read of a failed pod whose log was not followed to its end.
    expect(logReads(jobClient)).toBe(0);
    expect(jobClient.calls.filter((c) => c.method === 'followPodLog')).toHaveLength(1);
  });

  it('heard a line less than 1 s before the drain ended: reads the rest once, no line lost or doubled', async () => {
    const clock = new FakeClock();
    const jobClient = new NeverEndingFollows({ clock });
    // A line every 100 ms up to the container's end, and a 100 ms drain.
    const logs = numbered(10);
    jobClient.script(NAME, [{ runMs: 1000, logs }]);
    const executor = setup(jobClient, clock, 100);
    const streamed: string[] = [];
    const result = await drive(clock, executor.execute(RUN, { onLog: (l) => streamed.push(l.line) }), 10);
    executor.close();
    expect(result.status).toBe('succeeded');
    expect(streamed).toEqual(logs);
    expect(result.lastLogLines).toEqual(logs);
    expect(logReads(jobClient)).toBe(1);
  });

  it('heard nothing (a silent container, or a follow not connected yet): reads once', async () => {
    const clock = new FakeClock();
    const jobClient = new NeverEndingFollows({ clock });
    jobClient.script(NAME, [{ runMs: 3000 }]);
    const executor = setup(jobClient, clock, 2000);
    const result = await drive(clock, executor.execute(RUN, { onLog: () => undefined }));
    executor.close();
    expect(result.status).toBe('succeeded');
    expect(logReads(jobClient)).toBe(1);
  });
});

describe('cut streams: no line lost or doubled', () => {
  async function runWithCuts(options: InMemoryJobClientOptions, cut: (client: InMemoryJobClient) => void) {
    const clock = new FakeClock();
    const jobClient = new InMemoryJobClient({ clock, ...options });
    const logs = numbered(600);
    jobClient.script(NAME, [{ runMs: 600_000, logs, exitCode: 1 }]);
    const executor = setup(jobClient, clock);
    const streamed: string[] = [];
    let result: BlockResult | undefined;
    const run = executor.execute(RUN, { onLog: (l) => streamed.push(l.line) }).then((r) => {
      result = r;
    });
    // A cut every 7.3 s: at random places relative to the lines (one a second).
    for (let t = 0; !result && t < 700_000; t += 100) {
      await clock.advance(100);
      if (t % 7300 === 0) cut(jobClient);
    }
    await run;
    executor.close();
    return { result: result!, streamed, logs, jobClient };
  }

  it('clean cuts (the server closes the stream)', async () => {
    const { result, streamed, logs, jobClient } = await runWithCuts({}, (c) => c.cutLogStreams());
    expect(streamed).toEqual(logs);
    expect(result.lastLogLines).toEqual(logs.slice(-50));
    expect(jobClient.calls.filter((c) => c.method === 'followPodLog').length).toBeGreaterThan(50);
  });

  it('abrupt cuts (the connection breaks)', async () => {
    const reset = new Error('read ECONNRESET');
    const { streamed, logs } = await runWithCuts({}, (c) => c.cutLogStreams(reset as never));
    expect(streamed).toEqual(logs);
  });

  it('lines that share their timestamp (written in the same millisecond) are counted, not lost or doubled', async () => {
    const clock = new FakeClock();
    const jobClient = new InMemoryJobClient({ clock, logTimestamps: 'clock' });
    // Ten lines every 10 ms: bursts of lines stamped alike, cut in the middle of a burst.
    const logs = numbered(200);
    jobClient.script(NAME, [{ runMs: 200, logs }]);
    const executor = setup(jobClient, clock);
    const streamed: string[] = [];
    const pending = executor.execute(RUN, { onLog: (l) => streamed.push(l.line) });
    for (let t = 0; t < 30; t++) {
      await clock.advance(7);
      jobClient.cutLogStreams();
    }
    const result = await drive(clock, pending, 100);
    executor.close();
    expect(result.status).toBe('succeeded');
    expect(streamed).toEqual(logs);
  });

  it('a server that does not stamp lines: delivered lines are counted and skipped on a resume', async () => {
    const clock = new FakeClock();
    const jobClient = new NoTimestamps({ clock });
    const logs = numbered(30);
    jobClient.script(NAME, [{ runMs: 30_000, logs }]);
    const executor = setup(jobClient, clock);
    const streamed: string[] = [];
    const pending = executor.execute(RUN, { onLog: (l) => streamed.push(l.line) });
    for (let t = 0; t < 10; t++) {
      await clock.advance(2500);
      jobClient.cutLogStreams();
    }
    await drive(clock, pending);
    executor.close();
    expect(streamed).toEqual(logs);
  });

  it('a container quiet for 10 minutes keeps its follow, then streams on', async () => {
    const clock = new FakeClock();
    const jobClient = new InMemoryJobClient({ clock });
    jobClient.script(NAME, [{ runMs: 20 * 60_000, logs: ['before the quiet', 'after the quiet'] }]);
    const executor = setup(jobClient, clock);
    const streamed: string[] = [];
    const result = await drive(clock, executor.execute(RUN, { onLog: (l) => streamed.push(l.line) }), 1000);
    executor.close();
    expect(result.status).toBe('succeeded');
    expect(streamed).toEqual(['before the quiet', 'after the quiet']);
    expect(jobClient.calls.filter((c) => c.method === 'followPodLog')).toHaveLength(1);
  });

  it('a throwing onLog is reported once and the run goes on with every line', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const clock = new FakeClock();
    const jobClient = new InMemoryJobClient({ clock });
    jobClient.script(NAME, [{ runMs: 3000, logs: numbered(3) }]);
    const executor = setup(jobClient, clock);
    const streamed: string[] = [];
    const result = await drive(
      clock,
      executor.execute(RUN, {
        onLog: (l) => {
          streamed.push(l.line);
          throw new Error('sink full');
        },
      }),
    );
    executor.close();
    expect(result.status).toBe('succeeded');
    expect(streamed).toEqual(numbered(3));
    expect(warn).toHaveBeenCalledTimes(1);
  });
});

describe('a failed init container', () => {
  /** A cluster (by hand) where the init container `setup` failed with exit 2 before the block's container ran. */
  class InitFailure extends ScriptedJobClient {
    readonly logReads: LogOptions[] = [];
    override createJob() {
      const message = 'Job has reached the specified backoff limit';
      const failedJob = job({
        rv: '101',
        status: {
          failed: 1,
          conditions: [
            { type: 'FailureTarget', status: 'True', reason: 'BackoffLimitExceeded', message },
            { type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message },
          ],
        },
      });
      this.setJob(failedJob);
      this.setPod(
        pod({
          name: `${NAME}-x2k9d`,
          created: T0,
          rv: '102',
          phase: 'Failed',
          main: waiting('PodInitializing'),
          initContainers: [{ name: 'setup', state: terminated(2, 'Error', T0 + 1000, T0 + 5000) }],
        }),
      );
      return Promise.resolve(failedJob);
    }
    override readPodLog(_ns?: string, _pod?: string, options?: LogOptions) {
      this.logReads.push(options ?? {});
      if (options?.container === 'setup')
        return Promise.resolve('migrating schema\nerror: relation "users" exists\n');
      return Promise.reject(new Error('container "mage-job-container" is waiting to start: PodInitializing'));
    }
    override followPodLog() {
      return Promise.reject(new Error('container "mage-job-container" is waiting to start: PodInitializing'));
    }
    override deleteJob() {
      return Promise.resolve(true);
    }
    override listWarningEvents() {
      return Promise.resolve([]);
    }
  }

  it("puts the init container's last lines in the result, naming it", async () => {
    const clock = new FakeClock(T0);
    const jobClient = new InitFailure();
    const executor = setup(jobClient, clock);
    const result = await drive(clock, executor.execute(RUN, { onLog: () => undefined }));
    executor.close();
    expect(result).toMatchObject({ status: 'failed', reason: 'EXIT_CODE', exitCode: 2 });
    expect(result.message).toMatch(/Container "setup" exited with code 2/);
    expect(result.lastLogContainer).toBe('setup');
    expect(result.lastLogLines).toEqual(['migrating schema', 'error: relation "users" exists']);
    expect(jobClient.logReads.find((o) => o.container === 'setup')).toMatchObject({ tailLines: 50 });
  });
});
