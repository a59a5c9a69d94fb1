/**
 * A DAG run whose namespace stops being observable (a Role re-applied by GitOps without `pods` `list`: Jobs
 * can still be listed and deleted) fails its blocks after the unlistable bound and leaves their Jobs
 * running (issue 9 item 1, docs/runtime.md): the run's own final cleanup must not delete them either.
 */
import { expect, it } from 'vitest';
import { ApiError } from '../../src/errors/api-error.js';
import { K8sPipelineExecutor } from '../../src/executor/pipeline-executor.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { InMemoryJobClient } from '../../src/testing/in-memory-job-client.js';
import { StaticConfigSource } from '../../src/testing/static-config-source.js';
import { projectFiles } from '../helpers/project.js';

const MIN = 60_000;
const HOUR = 60 * MIN;

async function advance(clock: FakeClock, ms: number, stepMs = 1000): Promise<void> {
  for (let t = 0; t < ms; t += stepMs) await clock.advance(stepMs);
}

it("the run's cleanup leaves the Jobs it reported as left running for an unlistable namespace", async () => {
  const clock = new FakeClock();
  const jobClient = new InMemoryJobClient({ clock });
  for (const block of ['a', 'b']) jobClient.script(`mage-data-prep-block-7-${block}`, [{ runMs: 2 * HOUR }]);
  const executor = new K8sPipelineExecutor({
    configSource: new StaticConfigSource(projectFiles('  - uuid: a\n  - uuid: b\n')),
    jobClient,
    clock,
    logDrainMs: 10,
  });
  let settled = false;
  const run = executor.run({ pipelineUuid: 'etl', pipelineRunId: 7 }).finally(() => {
    settled = true;
  });
  await advance(clock, 10 * MIN);
  expect(jobClient.jobs()).toHaveLength(2);
  // From now on the Role lacks pods list (and watch); Jobs stay readable and deletable.
  const op = { verb: 'list', resource: 'pods', group: '', namespace: 'default' };
  jobClient.failWhen((call) =>
    call.method === 'listPods' || call.method === 'watchPods'
      ? new ApiError('API_FORBIDDEN', 'pods is forbidden: cannot "list" "pods"', {
          status: 403,
          operation: op,
        })
      : undefined,
  );
  jobClient.expireWatchHistory();
  jobClient.dropWatches();
  for (let i = 0; i < 20 * 60 && !settled; i++) await clock.advance(1000);
  const result = await run;
  executor.close();
  expect(result.blocks.map((b) => [b.uuid, b.status, b.reason])).toEqual([
    ['a', 'failed', 'API_FORBIDDEN'],
    ['b', 'failed', 'API_FORBIDDEN'],
  ]);
  expect(result.blocks[0]?.message).toMatch(/was left running/);
  expect(result.blocks.map((b) => b.attempts.at(-1)?.leftRunning)).toEqual([true, true]);
  // What the message promises: the Jobs are still there to adopt, and nothing deleted them.
  expect(jobClient.calls.filter((c) => c.method === 'deleteJob').map((c) => c.name)).toEqual([]);
  expect(jobClient.jobs().map((j) => j.metadata.name)).toEqual([
    'mage-data-prep-block-7-a',
    'mage-data-prep-block-7-b',
  ]);
});
