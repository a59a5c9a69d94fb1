// A running block lets go of its Job's body once it is submitted (docs/performance.md: memory per running
// block): only the name, namespace, container and identity stay with it for the rest of the run.
import { describe, expect, it } from 'vitest';
import { K8sBlockExecutor } from '../../src/executor/block-executor.js';
import { type JobRunnerDeps, runPreparedJob, toRun } from '../../src/executor/run-job.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { InMemoryJobClient } from '../../src/testing/in-memory-job-client.js';
import { StaticConfigSource } from '../../src/testing/static-config-source.js';
import { drive } from '../helpers/drive.js';
import { projectFiles } from '../helpers/project.js';

describe('runPreparedJob', () => {
  it('empties the body it was given once the Job is submitted, and still deletes the Job at the end', async () => {
    const clock = new FakeClock();
    const jobClient = new InMemoryJobClient({ clock, defaultScript: [{ runMs: 1000 }] });
    const executor = new K8sBlockExecutor({
      configSource: new StaticConfigSource(projectFiles('  - uuid: load\n    executor_type: k8s\n')),
      jobClient,
      clock,
      logDrainMs: 100,
    });
    const { resolved: _resolved, ...prepared } = await executor.prepare({
      pipelineUuid: 'etl',
      blockUuid: 'load',
      pipelineRunId: 7,
      blockRunId: 42,
    });
    const { running, body } = toRun(prepared);
    expect(running).not.toHaveProperty('job');
    expect(running.ttlSet).toBe(false);
    const bodyAt: Record<string, boolean> = {};
    const deps = (executor as unknown as { deps: JobRunnerDeps }).deps;
    const result = await drive(
      clock,
      runPreparedJob(deps, running, body, {
        onEvent: (event) => {
          bodyAt[event.type] = body.job !== undefined;
        },
      }),
    );
    executor.close();
    expect(result.status).toBe('succeeded');
    expect(bodyAt).toMatchObject({ submitted: false, running: false, succeeded: false });
    expect(jobClient.createdJobs[0]?.metadata.name).toBe('mage-data-prep-block-42');
    expect(jobClient.jobs()).toEqual([]);
  });
});
