import { describe, expect, it, vi } from 'vitest';
import { CALLBACK_WARNING_CODE, isolateCallback } from '../../src/errors/isolate-callback.js';
import { K8sBlockExecutor } from '../../src/executor/block-executor.js';
import type { BlockRun } from '../../src/executor/types.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { InMemoryJobClient } from '../../src/testing/in-memory-job-client.js';
import { StaticConfigSource } from '../../src/testing/static-config-source.js';
import { drive } from '../helpers/drive.js';
import { projectFiles } from '../helpers/project.js';

/** What a caller hands `execute()` may misbehave in any way: it changes no outcome and holds nothing. */

const RUN: BlockRun = { pipelineUuid: 'etl', blockUuid: 'load', pipelineRunId: 7, blockRunId: 42 };

function setup() {
  const clock = new FakeClock();
  const jobClient = new InMemoryJobClient({ clock, defaultScript: [{ runMs: 1000 }] });
  const executor = new K8sBlockExecutor({
    configSource: new StaticConfigSource(projectFiles('  - uuid: load\n')),
    jobClient,
    clock,
  });
  return { clock, jobClient, executor };
}

const revoked = Proxy.revocable({}, {});
revoked.revoke();
const UNPRINTABLE: [string, unknown][] = [
  ['a null-prototype object', Object.create(null)],
  [
    'an object whose toString throws',
    {
      toString: () => {
        throw new Error('no');
      },
    },
  ],
  [
    'an Error whose message getter throws',
    Object.defineProperty(new Error(), 'message', {
      get: () => {
        throw new Error('no');
      },
    }),
  ],
  ['a revoked Proxy', revoked.proxy],
];

describe('a callback that fails with a value that cannot be printed', () => {
  for (const [what, value] of UNPRINTABLE)
    it(`(${what}) is still reported once, and the run goes on`, async () => {
      const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
      const { clock, jobClient, executor } = setup();
      const result = await drive(
        clock,
        executor.execute(RUN, {
          onEvent: () => {
            throw value;
          },
        }),
      );
      executor.close();
      expect(result.status).toBe('succeeded');
      expect(jobClient.jobs()).toEqual([]);
      expect(warn).toHaveBeenCalledTimes(1);
      expect(warn.mock.calls[0]?.[0]).toMatch(
        /the onEvent callback threw \(a value that cannot be printed\)/,
      );
      expect(warn.mock.calls[0]?.[1]).toMatchObject({ code: CALLBACK_WARNING_CODE });
    });
});

describe('options whose getter throws', () => {
  it('fail that call only: no slot is held, no Job created, and later runs go on', async () => {
    const { clock, jobClient, executor } = setup();
    const broken = Object.defineProperty({}, 'onEvent', {
      enumerable: true,
      get() {
        throw new Error('options getter');
      },
    });
    // More calls than submissions may be in flight at once: a slot kept by each would stall the rest.
    for (let i = 0; i < 200; i++)
      await expect(executor.execute({ ...RUN, blockRunId: i }, broken)).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
        message: expect.stringContaining(
          "execute(): onEvent could not be read (reading it threw; that error is this error's cause)",
        ),
      });
    // With another wrong option: both are named, the getter's error is the cause.
    const both = Object.defineProperty({ signal: 'stop' }, 'onLog', {
      get() {
        throw new Error('getter bug: Bearer sk-live-SECRET');
      },
    });
    const error = await executor.execute(RUN, both as never).catch((e: Error) => e);
    expect((error as Error).message).toMatch(
      /^execute\(\): signal must be an AbortSignal \(got string\); onLog could not be read \(reading it threw; that error is this error's cause\)\./,
    );
    expect((error as Error).message).not.toContain('SECRET'); // a getter's error may say anything
    const two = Object.defineProperties(
      {},
      {
        onEvent: {
          get: () => {
            throw new Error('first');
          },
        },
        onLog: {
          get: () => {
            throw new Error('second');
          },
        },
      },
    );
    const twice = await executor.execute(RUN, two as never).catch((e: Error) => e);
    expect((twice as Error).message).toContain(
      "onEvent could not be read (reading it threw; that error is this error's cause); onLog could not be read (reading it threw).",
    );
    expect((twice as Error).cause).toMatchObject({ message: 'first' });
    expect((error as Error).cause).toMatchObject({ message: 'getter bug: Bearer sk-live-SECRET' });
    expect(jobClient.calls.filter((c) => c.method === 'createJob')).toEqual([]);
    const result = await drive(clock, executor.execute({ ...RUN, blockRunId: 999 }));
    executor.close();
    expect(result.status).toBe('succeeded');
  });
});

describe('options of the wrong type', () => {
  const catchAll = new Proxy({}, { get: () => () => undefined }); // answers every key with a function

  it('fail that call with one INVALID_ARGUMENT naming each, before any request; later runs go on', async () => {
    const { clock, jobClient, executor } = setup();
    for (let i = 0; i < 200; i++) {
      await expect(executor.execute({ ...RUN, blockRunId: i }, catchAll)).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
        message: expect.stringContaining(
          'execute(): snapshot must be an object (got a function); signal must be an AbortSignal (got a function); telemetryParent must be an object (got a function); keepJob must be true or false (got a function).',
        ),
      });
    }
    const wrong = { onEvent: 42, onLog: 'lines', signal: {}, keepJob: 'yes' };
    const error = await executor.execute(RUN, wrong as never).catch((e: Error) => e);
    expect(error).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect((error as Error).message).toMatch(
      /^execute\(\): signal must be an AbortSignal \(got an object\); onEvent must be a function \(got number\); onLog must be a function \(got string\); keepJob must be true or false \(got string\)\. Pass the options/,
    );
    // An object that only claims to be one (its prototype is AbortSignal's) is not Node's AbortSignal.
    await expect(
      executor.execute(RUN, { signal: Object.create(AbortSignal.prototype) } as never),
    ).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining('signal must be an AbortSignal (got an object)'),
    });
    await expect(executor.execute(RUN, { snapshot: revoked.proxy } as never)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining('snapshot must be an object (got a value that cannot be inspected)'),
    });
    await expect(executor.execute(RUN, { signal: revoked.proxy } as never)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining(
        'signal must be an AbortSignal (got a value that cannot be inspected)',
      ),
    });
    await expect(executor.execute(RUN, 'fast' as never)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining('the options must be an object (got string)'),
    });
    // Only Node's own AbortSignal: a run combines it with others (AbortSignal.any refuses any other), and
    // a look-alike whose addEventListener throws would fail the run after its slot is taken.
    class ShimSignal {
      aborted = false;
      reason: unknown;
      addEventListener() {
        throw new Error('listener refused');
      }
      removeEventListener() {}
    }
    for (let i = 0; i < 200; i++) {
      await expect(
        executor.execute({ ...RUN, blockRunId: i }, { signal: new ShimSignal() as never }),
      ).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
        message: expect.stringContaining('signal must be an AbortSignal (got an object)'),
      });
    }
    expect(jobClient.calls).toEqual([]);
    // From JavaScript, null is an option not given, as undefined is.
    const result = await drive(
      clock,
      executor.execute({ ...RUN, blockRunId: 999 }, { keepJob: false, onEvent: null, signal: null } as never),
    );
    executor.close();
    expect(result.status).toBe('succeeded');
  });
});

describe('options given as a class instance', () => {
  it('its callbacks count, on the instance or its prototype', async () => {
    const { clock, executor } = setup();
    const seen: string[] = [];
    class Listener {
      onEvent(event: { type: string }) {
        seen.push(event.type);
      }
      get onDetected() {
        return () => seen.push('detected');
      }
    }
    const result = await drive(clock, executor.execute(RUN, new Listener()));
    executor.close();
    expect(result.status).toBe('succeeded');
    expect(seen).toEqual(['submitted', 'running', 'succeeded', 'detected']);
  });
});

describe('no options at all, from JavaScript', () => {
  it('execute(run, null) runs with none', async () => {
    const { clock, executor } = setup();
    const result = await drive(clock, executor.execute(RUN, null as never));
    executor.close();
    expect(result.status).toBe('succeeded');
  });
});

describe('the default warning of a failing callback', () => {
  it('is given once per function, however many runs it is passed to; a new closure per run warns anew', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const { clock, executor } = setup();
    const failing = () => {
      throw new Error('handler bug');
    };
    const runs = [1, 2, 3].map((blockRunId) =>
      drive(clock, executor.execute({ ...RUN, blockRunId }, { onEvent: failing })),
    );
    for (const result of await Promise.all(runs)) expect(result.status).toBe('succeeded');
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]?.[0]).toMatch(/the onEvent callback threw \(handler bug\)/);

    const again = [4, 5].map((blockRunId) =>
      drive(
        clock,
        executor.execute(
          { ...RUN, blockRunId },
          {
            onEvent: () => {
              throw new Error('closure bug');
            },
          },
        ),
      ),
    );
    await Promise.all(again);
    executor.close();
    expect(warn).toHaveBeenCalledTimes(3);
    warn.mockRestore();
  });
});

describe('the default warning, keyed by what the caller gave', () => {
  it('a callback that is not a function (from JavaScript) is still isolated', () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const isolated = isolateCallback('onLog', 42 as never);
    expect(() => isolated?.('line')).not.toThrow();
    expect(() => isolated?.('line')).not.toThrow();
    expect(warn).toHaveBeenCalledTimes(1);
    warn.mockRestore();
  });

  it('one function given as onEvent and as onLog warns once for each name', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const clock = new FakeClock();
    const jobClient = new InMemoryJobClient({ clock, defaultScript: [{ runMs: 1000, logs: ['one'] }] });
    const executor = new K8sBlockExecutor({
      configSource: new StaticConfigSource(projectFiles('  - uuid: load\n')),
      jobClient,
      clock,
      logDrainMs: 10,
    });
    const failing = () => {
      throw new Error('shared handler bug');
    };
    const result = await drive(clock, executor.execute(RUN, { onEvent: failing, onLog: failing }));
    executor.close();
    expect(result.status).toBe('succeeded');
    expect(warn.mock.calls.map((c) => String(c[0]).match(/the (\w+) callback/)?.[1]).sort()).toEqual([
      'onEvent',
      'onLog',
    ]);
    warn.mockRestore();
  });

  it('one throwing Telemetry given to two executors warns once', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const telemetry = new Proxy(
      {},
      {
        get: () => () => {
          throw new Error('telemetry bug');
        },
      },
    );
    for (const blockRunId of [1, 2]) {
      const clock = new FakeClock();
      const executor = new K8sBlockExecutor({
        configSource: new StaticConfigSource(projectFiles('  - uuid: load\n')),
        jobClient: new InMemoryJobClient({ clock, defaultScript: [{ runMs: 1000 }] }),
        clock,
        telemetry: telemetry as never,
      });
      const result = await drive(clock, executor.execute({ ...RUN, blockRunId }));
      executor.close();
      expect(result.status).toBe('succeeded');
    }
    expect(warn.mock.calls.filter((c) => String(c[0]).includes('telemetry callback'))).toHaveLength(1);
    warn.mockRestore();
  });
});
