import { describe, expect, it, vi } from 'vitest';
import { CALLBACK_WARNING_CODE } from '../../src/errors/isolate-callback.js';
import { K8sBlockExecutor } from '../../src/executor/block-executor.js';
import type { BlockDetection, BlockRun } from '../../src/executor/types.js';
import { WatchHubs } from '../../src/monitor/watch-hub.js';
import { managedSelector } from '../../src/naming/labels.js';
import type { JobClient } from '../../src/ports/job-client.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { InMemoryJobClient } from '../../src/testing/in-memory-job-client.js';
import { StaticConfigSource } from '../../src/testing/static-config-source.js';
import { drive } from '../helpers/drive.js';
import { projectFiles } from '../helpers/project.js';
import { kwokLike } from './kwok-like-client.js';

/** `onDetected`: the moment a Job's final state is seen, before its drain, diagnostics and cleanup. */

const RUN: BlockRun = { pipelineUuid: 'etl', blockUuid: 'load', pipelineRunId: 7, blockRunId: 42 };
const NAME = 'mage-data-prep-block-42';

function setup(
  wrap: (client: InMemoryJobClient, clock: FakeClock) => JobClient = (c) => c,
  hubOptions: { idleTimeoutMs?: number } = {},
) {
  const clock = new FakeClock();
  const memory = new InMemoryJobClient({ clock });
  memory.script(NAME, [{ runMs: 1000, logs: ['one', 'two'], terminationMessage: '{"rows": 3}' }]);
  const jobClient = wrap(memory, clock);
  const executor = new K8sBlockExecutor({
    configSource: new StaticConfigSource(projectFiles('  - uuid: load\n')),
    jobClient,
    clock,
    ...(hubOptions.idleTimeoutMs !== undefined
      ? {
          watchHubs: new WatchHubs({
            jobClient,
            clock,
            labelSelector: managedSelector(),
            idleTimeoutMs: hubOptions.idleTimeoutMs,
          }),
        }
      : {}),
  });
  return { clock, memory, executor };
}

describe('ExecuteOptions.onDetected', () => {
  it('is called when the final state is seen, before the 2 s drain; execute() resolves with the full result after it', async () => {
    let finalAt: Map<string, number> | undefined;
    const { clock, memory, executor } = setup((client, c) => {
      const kwok = kwokLike(client, c);
      finalAt = kwok.finalAt;
      return kwok.jobClient;
    });
    const detections: { at: number; detection: BlockDetection }[] = [];
    let resolvedAt: number | undefined;
    const work = executor
      .execute(RUN, {
        onLog: () => undefined,
        onDetected: (detection) => detections.push({ at: clock.now(), detection }),
      })
      .then((r) => {
        resolvedAt = clock.now();
        return r;
      });
    const result = await drive(clock, work, 50);
    executor.close();

    expect(detections).toHaveLength(1);
    const [{ at, detection }] = detections as [(typeof detections)[0]];
    expect(at).toBe(finalAt!.get(NAME));
    expect(resolvedAt! - at).toBe(2000); // the drain: the follow never ended on its own
    expect(detection).toEqual({
      status: 'succeeded',
      jobName: NAME,
      namespace: 'default',
      exitCode: 0,
      adopted: false,
      failedPods: 0,
      timings: result.timings,
      terminationMessage: '{"rows": 3}',
      output: { rows: 3 },
    });
    const { lastLogLines, warningEvents, ...rest } = result;
    expect(rest).toEqual(detection);
    expect(lastLogLines).toEqual(['one', 'two']);
    expect(warningEvents).toEqual([]);
    expect(memory.jobs()).toEqual([]); // cleaned up after the drain
    // The pod's end was seen on the watch: no extra read.
    expect(
      memory.calls.filter((c) => c.method === 'listPods' && c.labelSelector === `job-name=${NAME}`),
    ).toEqual([]);
  });

  it('a throwing onDetected is reported once and changes nothing', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const { clock, memory, executor } = setup();
    const result = await drive(
      clock,
      executor.execute(RUN, {
        onDetected: () => {
          throw new Error('scheduler down');
        },
      }),
    );
    executor.close();
    expect(result).toMatchObject({ status: 'succeeded', output: { rows: 3 } });
    expect(memory.jobs()).toEqual([]);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]?.[0]).toMatch(/the onDetected callback threw \(scheduler down\)/);
    expect(warn.mock.calls[0]?.[1]).toMatchObject({ code: CALLBACK_WARNING_CODE });
  });

  it('an async onEvent and onDetected that reject are reported once each, never an unhandled rejection', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const { clock, memory, executor } = setup();
    const result = await drive(
      clock,
      executor.execute(RUN, {
        onEvent: () => Promise.reject(new Error('ui offline')),
        onDetected: async () => {
          throw new Error('scheduler down');
        },
      }),
    );
    executor.close();
    await new Promise((resolve) => setImmediate(resolve)); // a rejection left unhandled would surface here
    expect(result).toMatchObject({ status: 'succeeded', output: { rows: 3 } });
    expect(memory.jobs()).toEqual([]);
    const messages = warn.mock.calls.map((call) => String(call[0]));
    expect(messages).toEqual([
      expect.stringMatching(/the onEvent callback threw \(ui offline\)/),
      expect.stringMatching(/the onDetected callback threw \(scheduler down\)/),
    ]);
  });

  it('a cancel after the final state cuts the drain short: the result stands and the Job is still cleaned up', async () => {
    const { clock, memory, executor } = setup((client, c) => kwokLike(client, c).jobClient);
    const cancel = new AbortController();
    let detectedAt: number | undefined;
    const work = executor.execute(RUN, {
      signal: cancel.signal,
      onLog: () => undefined,
      onDetected: () => {
        detectedAt = clock.now();
        cancel.abort();
      },
    });
    const result = await drive(clock, work, 50);
    executor.close();
    expect(result).toMatchObject({ status: 'succeeded', lastLogLines: ['one', 'two'] });
    expect(clock.now() - detectedAt!).toBeLessThan(2000);
    expect(memory.jobs()).toEqual([]);
  });

  it("the executor's close during the drain stops it at once; execute() resolves with the result", async () => {
    const { clock, executor } = setup((client, c) => kwokLike(client, c).jobClient);
    let resolved = false;
    const work = executor.execute(RUN, { onLog: () => undefined, onDetected: () => executor.close() });
    void work.then(() => {
      resolved = true;
    });
    for (let i = 0; i < 40 && !resolved; i++) await clock.advance(50);
    expect(resolved).toBe(true);
    expect(await work).toMatchObject({ status: 'succeeded', lastLogLines: ['one', 'two'] });
  });

  it('a run after a close drains as usual: each close cuts only the drains of the runs before it', async () => {
    const { clock, executor } = setup((client, c) => kwokLike(client, c).jobClient);
    executor.close();
    let detectedAt: number | undefined;
    const work = executor.execute(RUN, {
      onLog: () => undefined,
      onDetected: () => (detectedAt = clock.now()),
    });
    await drive(clock, work, 50);
    executor.close();
    expect(clock.now() - detectedAt!).toBeGreaterThanOrEqual(2000);
  });

  /** The Pods watch delivers a pod's end `delayMs` late (`undefined`: never, as if lost). */
  const lateEnds =
    (delayMs: number | undefined) =>
    (client: InMemoryJobClient, clock: FakeClock): JobClient =>
      new Proxy(client, {
        get(target, property, receiver) {
          if (property === 'watchPods') {
            const watch: JobClient['watchPods'] = (namespace, onEvent, options) =>
              target.watchPods(
                namespace,
                (event) => {
                  if (event.object.status?.phase !== 'Succeeded') onEvent(event);
                  else if (delayMs !== undefined) void clock.sleep(delayMs).then(() => onEvent(event));
                },
                options,
              );
            return watch;
          }
          const value = Reflect.get(target, property, receiver) as unknown;
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
  const podReads = (memory: InMemoryJobClient) =>
    memory.calls.filter((c) => c.method === 'listPods' && c.labelSelector === `job-name=${NAME}`).length;

  it('a success seen before its pod ended waits for that end on the watch, with no request of its own', async () => {
    const { clock, memory, executor } = setup(lateEnds(300));
    let detectedAt: number | undefined;
    const result = await drive(
      clock,
      executor.execute(RUN, { onDetected: () => (detectedAt = clock.now()) }),
      50,
    );
    executor.close();
    expect(result).toMatchObject({ status: 'succeeded', exitCode: 0, output: { rows: 3 } });
    expect(podReads(memory)).toBe(0);
    // The detection waited for the pod's end, which came 300 ms after the Job's condition.
    expect(detectedAt! - result.timings.finishedAt).toBe(300);
  });

  it('the wait for that end keeps the shared watch open: with no idle time, still no list of its own', async () => {
    const { clock, memory, executor } = setup(lateEnds(300), { idleTimeoutMs: 0 });
    const result = await drive(clock, executor.execute(RUN), 50);
    executor.close();
    expect(result).toMatchObject({ status: 'succeeded', exitCode: 0, output: { rows: 3 } });
    const lists = memory.calls.filter((c) => c.method === 'listPods' || c.method === 'listJobs');
    expect(lists.map((c) => c.method).sort()).toEqual(['listJobs', 'listPods']);
  });

  it('a pod end that never shows is read once after podOutcomeGraceMs (5 s)', async () => {
    const { clock, memory, executor } = setup(lateEnds(undefined));
    const result = await drive(clock, executor.execute(RUN));
    executor.close();
    expect(result).toMatchObject({ status: 'succeeded', exitCode: 0, output: { rows: 3 } });
    expect(podReads(memory)).toBe(1);
    expect(clock.sleeps).toContain(5000);
  });

  for (const delayMs of [300, undefined])
    it(`a cancel on the \`succeeded\` event still gets the exit code and output (pod end ${delayMs === undefined ? 'never shown: read once' : `${delayMs} ms late`})`, async () => {
      const { clock, memory, executor } = setup(lateEnds(delayMs));
      const cancel = new AbortController();
      const result = await drive(
        clock,
        executor.execute(RUN, {
          signal: cancel.signal,
          onEvent: (event) => {
            if (event.type === 'succeeded') cancel.abort();
          },
        }),
        50,
      );
      executor.close();
      expect(result).toMatchObject({ status: 'succeeded', exitCode: 0, output: { rows: 3 } });
      expect(podReads(memory)).toBe(delayMs === undefined ? 1 : 0);
      expect(memory.jobs()).toEqual([]);
    });
});
