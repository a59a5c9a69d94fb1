import { describe, expect, it } from 'vitest';
import { K8sBlockExecutor } from '../../src/executor/block-executor.js';
import type { BlockRun } from '../../src/executor/types.js';
import type { JobClient } from '../../src/ports/job-client.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { InMemoryJobClient } from '../../src/testing/in-memory-job-client.js';
import { StaticConfigSource } from '../../src/testing/static-config-source.js';
import { projectFiles } from '../helpers/project.js';

/**
 * A JobClient that breaks its contract by throwing instead of returning a rejected promise gets the
 * same outcome as one that rejects: a missing answer, never a hang, a raw error or a Job left behind.
 */

const RUN: BlockRun = { pipelineUuid: 'etl', blockUuid: 'load', pipelineRunId: 7, blockRunId: 42 };
const NAME = 'mage-data-prep-block-42';
const METHODS = [
  'createJob',
  'getJob',
  'listJobs',
  'watchJobs',
  'deleteJob',
  'listPods',
  'watchPods',
  'readPodLog',
  'followPodLog',
  'listWarningEvents',
] as const satisfies readonly (keyof JobClient)[];

/** Runs one block whose client's `method` fails its first `failures` calls, by throwing or by rejecting. */
async function outcome(
  method: (typeof METHODS)[number],
  exitCode: number,
  throws: boolean,
  failures: number,
) {
  const clock = new FakeClock();
  const memory = new InMemoryJobClient({ clock });
  memory.script(NAME, [{ runMs: 1000, exitCode, logs: ['one', 'two'] }]);
  let calls = 0;
  const original = memory[method].bind(memory) as (...args: unknown[]) => unknown;
  Object.assign(memory, {
    [method]: (...args: unknown[]) => {
      if (calls++ >= failures) return original(...args);
      const error = new TypeError(`${method} is broken`);
      if (throws) throw error;
      return Promise.reject(error);
    },
  });
  const executor = new K8sBlockExecutor({
    configSource: new StaticConfigSource(projectFiles('  - uuid: load\n')),
    jobClient: memory,
    clock,
  });
  let settled: unknown = 'still running';
  executor.execute(RUN, { onLog: () => undefined }).then(
    ({ timings: _, ...result }) => (settled = result),
    (error: unknown) => (settled = { rejected: String(error), ...(error as object) }),
  );
  for (let second = 0; second < 900 && settled === 'still running'; second++) await clock.advance(1000);
  executor.close();
  return { settled, jobsLeft: memory.jobs().map((j) => j.metadata.name) };
}

describe('a JobClient that throws synchronously', () => {
  for (const method of METHODS)
    for (const exitCode of [0, 1])
      for (const failures of [1, Infinity])
        it(`${method}, ${failures === 1 ? 'once' : 'always'}, exit code ${exitCode}: as if it rejected`, async () => {
          const rejecting = await outcome(method, exitCode, false, failures);
          expect(await outcome(method, exitCode, true, failures)).toEqual(rejecting);
        });
});
