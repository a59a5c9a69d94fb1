import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CALLBACK_WARNING_CODE } from '../../src/errors/isolate-callback.js';
import { K8sPipelineExecutor, type PipelineExecutorOptions } from '../../src/executor/pipeline-executor.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { InMemoryJobClient } from '../../src/testing/in-memory-job-client.js';
import { StaticConfigSource } from '../../src/testing/static-config-source.js';
import { drive } from '../helpers/drive.js';
import { projectFiles } from '../helpers/project.js';

/**
 * A pipeline's `onEvent`/`onLog` callbacks may throw (a progress UI bug, a metrics client that is
 * down): the throw is reported once as a process warning and changes no outcome; nothing becomes an
 * unhandled rejection.
 */

const unhandled: unknown[] = [];
const warnings: Error[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
const onWarning = (warning: Error) => {
  if ((warning as Error & { code?: string }).code === CALLBACK_WARNING_CODE) warnings.push(warning);
};
let vitestListeners: NodeJS.UnhandledRejectionListener[] = [];

beforeEach(() => {
  unhandled.length = 0;
  warnings.length = 0;
  // Keep vitest from failing the whole file on an unhandled rejection: this file asserts it itself.
  vitestListeners = process.listeners('unhandledRejection');
  process.removeAllListeners('unhandledRejection');
  process.on('unhandledRejection', onUnhandled);
  process.on('warning', onWarning);
});

afterEach(() => {
  process.off('unhandledRejection', onUnhandled);
  process.off('warning', onWarning);
  for (const listener of vitestListeners) process.on('unhandledRejection', listener);
});

function setup(options: Partial<PipelineExecutorOptions> = {}) {
  const clock = new FakeClock();
  const jobClient = new InMemoryJobClient({ clock, defaultScript: [{ runMs: 1000, logs: ['one', 'two'] }] });
  const executor = new K8sPipelineExecutor({
    configSource: new StaticConfigSource(
      projectFiles('  - uuid: load\n  - uuid: report\n    upstream_blocks: [load]\n'),
    ),
    jobClient,
    clock,
    logDrainMs: 10,
    ...options,
  });
  return { clock, jobClient, executor };
}

/** Lets the process warnings (emitted on the next tick) and any unhandled rejection arrive. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

describe('a throwing pipeline onEvent callback', () => {
  it('is contained (no unhandled rejection), reported once, and changes no outcome', async () => {
    const { clock, executor } = setup();
    const result = await drive(
      clock,
      executor.run(
        { pipelineUuid: 'etl', pipelineRunId: 7 },
        {
          onEvent: (e) => {
            if (e.type === 'block-status' && e.status === 'submitted') throw new Error('metrics client down');
          },
        },
      ),
    );
    executor.close();
    await settle();
    expect(unhandled).toEqual([]);
    expect(result.status).toBe('succeeded');
    expect(result.blocks.map((b) => b.status)).toEqual(['succeeded', 'succeeded']);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.message).toMatch(/onEvent callback threw \(metrics client down\)/);
  });

  it('an async callback that rejects is contained too', async () => {
    const { clock, executor } = setup();
    const result = await drive(
      clock,
      executor.run(
        { pipelineUuid: 'etl', pipelineRunId: 7 },
        { onEvent: async () => Promise.reject(new Error('async sink down')) },
      ),
    );
    executor.close();
    await settle();
    expect(unhandled).toEqual([]);
    expect(result.status).toBe('succeeded');
    expect(warnings).toHaveLength(1);
  });

  it('in single-job mode as well', async () => {
    const { clock, executor } = setup({ mode: 'single-job' });
    const result = await drive(
      clock,
      executor.run(
        { pipelineUuid: 'etl', pipelineRunId: 7 },
        {
          onEvent: () => {
            throw new Error('ui bug');
          },
        },
      ),
    );
    executor.close();
    await settle();
    expect(unhandled).toEqual([]);
    expect(result.status).toBe('succeeded');
    expect(warnings).toHaveLength(1);
  });
});

describe('a throwing pipeline onLog callback', () => {
  it('is reported once however many lines it throws on, and every block still succeeds', async () => {
    const { clock, executor } = setup();
    let calls = 0;
    const result = await drive(
      clock,
      executor.run(
        { pipelineUuid: 'etl', pipelineRunId: 7 },
        {
          onLog: () => {
            calls++;
            throw new Error('log sink down');
          },
        },
      ),
    );
    executor.close();
    await settle();
    expect(unhandled).toEqual([]);
    expect(calls).toBe(4); // two lines of each block, each delivered although the sink threw
    expect(result.status).toBe('succeeded');
    expect(result.blocks[0]!.lastLogLines).toEqual(['one', 'two']);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.message).toMatch(/onLog callback threw/);
  });
});

describe('a pipeline run cancelled from inside a block-event callback', () => {
  it("on the block's `succeeded`: that block stays succeeded, its downstream is cancelled", async () => {
    const { clock, executor } = setup();
    const cancel = new AbortController();
    const result = await drive(
      clock,
      executor.run(
        { pipelineUuid: 'etl', pipelineRunId: 7 },
        {
          signal: cancel.signal,
          onEvent: (e) => {
            if (e.type === 'block-event' && e.event.type === 'succeeded') cancel.abort();
          },
        },
      ),
    );
    executor.close();
    await settle();
    expect(unhandled).toEqual([]);
    expect(result.status).toBe('cancelled');
    expect(result.blocks.map((b) => [b.uuid, b.status])).toEqual([
      ['load', 'succeeded'],
      ['report', 'cancelled'],
    ]);
  });
});

describe('pipeline run options of the wrong type', () => {
  it('fail the run with one INVALID_ARGUMENT before any Job, and the same failing onEvent of two runs warns once', async () => {
    const { clock, jobClient, executor } = setup();
    await expect(
      executor.run({ pipelineUuid: 'etl', pipelineRunId: 7 }, { onLog: 'stdout', signal: 'stop' } as never),
    ).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(
        /^run\(\): signal must be an AbortSignal \(got string\); onLog must be a function \(got string\)\./,
      ),
    });
    expect(jobClient.calls.filter((c) => c.method === 'createJob')).toEqual([]);
    // keepJobs is read as a flag by a DAG run and passed on by a single-job run: refused at once, in both.
    expect(() => setup({ keepJobs: 'true' as never })).toThrow(
      /^new K8sPipelineExecutor\(\): keepJobs must be true or false \(got string\)\./,
    );
    // Read once, when the executor is made: a later change of the options object changes nothing.
    const laterClock = new FakeClock();
    const laterJobs = new InMemoryJobClient({ clock: laterClock, defaultScript: [{ runMs: 1000 }] });
    const settings: PipelineExecutorOptions = {
      configSource: new StaticConfigSource(projectFiles('  - uuid: load\n')),
      jobClient: laterJobs,
      clock: laterClock,
      logDrainMs: 10,
      keepJobs: false,
    };
    const later = new K8sPipelineExecutor(settings);
    (settings as { keepJobs: unknown }).keepJobs = 'true';
    const dag = await drive(laterClock, later.run({ pipelineUuid: 'etl', pipelineRunId: 6 }));
    later.close();
    expect(dag.status).toBe('succeeded');
    expect(laterJobs.jobs()).toEqual([]); // not kept

    const failing = () => {
      throw new Error('progress UI bug');
    };
    for (const pipelineRunId of [8, 9]) {
      const result = await drive(
        clock,
        executor.run({ pipelineUuid: 'etl', pipelineRunId }, { onEvent: failing }),
      );
      expect(result.status).toBe('succeeded');
    }
    executor.close();
    await settle();
    expect(warnings).toHaveLength(1);
    expect(unhandled).toEqual([]);
  });
});
