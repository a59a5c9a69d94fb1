import { describe, expect, it, vi } from 'vitest';
import { CALLBACK_WARNING_CODE } from '../../src/errors/isolate-callback.js';
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
      await expect(executor.execute({ ...RUN, blockRunId: i }, broken)).rejects.toThrow('options getter');
    expect(jobClient.calls.filter((c) => c.method === 'createJob')).toEqual([]);
    const result = await drive(clock, executor.execute({ ...RUN, blockRunId: 999 }));
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
