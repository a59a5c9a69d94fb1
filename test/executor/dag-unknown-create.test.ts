import { describe, expect, it } from 'vitest';
import { ApiError } from '../../src/errors/api-error.js';
import { K8sPipelineExecutor } from '../../src/executor/pipeline-executor.js';
import type { CallOptions } from '../../src/ports/job-client.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { InMemoryJobClient } from '../../src/testing/in-memory-job-client.js';
import { StaticConfigSource } from '../../src/testing/static-config-source.js';
import type { Job } from '../../src/types/kube.js';
import { drive } from '../helpers/drive.js';
import { projectFiles } from '../helpers/project.js';

/**
 * An attempt whose create outcome is unknown (the create reached the server, every answer was lost)
 * is looked up by its Job name and identity before anything else: found, it is adopted, never
 * duplicated; and the run's cleanup finds it by labels even when the attempt has no record of it.
 */

const unavailable = (verb: string, ns: string) =>
  new ApiError('API_UNAVAILABLE', `Gave up on "${verb}" "jobs" after 6 attempts in 58.3 s`, {
    operation: { verb, resource: 'jobs', group: 'batch', namespace: ns },
    status: 503,
    transient: true,
  });

/** The API server accepts the first create, but its answer never comes back. */
class FirstCreateAnswerLost extends InMemoryJobClient {
  private lost = false;
  override async createJob(ns: string, job: Job, options?: CallOptions & { dryRun?: boolean }): Promise<Job> {
    const created = await super.createJob(ns, job, options);
    if (!this.lost && !options?.dryRun) {
      this.lost = true;
      throw unavailable('create', ns);
    }
    return created;
  }
}

const LOAD = 'mage-data-prep-block-7-load';
const active = (jobs: Job[]) =>
  jobs.filter((j) => !(j.status?.conditions ?? []).some((c) => c.status === 'True'));

function setup(blocksYaml: string, runMs: number) {
  const clock = new FakeClock();
  const jobClient = new FirstCreateAnswerLost({ clock, defaultScript: [{ runMs }] });
  const executor = new K8sPipelineExecutor({
    configSource: new StaticConfigSource(projectFiles(blocksYaml)),
    jobClient,
    clock,
    logDrainMs: 10,
  });
  return { clock, jobClient, executor };
}

describe('a create whose answer was lost, in a DAG with retries', () => {
  it('never has two Jobs of the same block running at once', async () => {
    const { clock, jobClient, executor } = setup(
      '  - uuid: load\n    retry_config:\n      retries: 1\n      delay: 5\n',
      30 * 60_000,
    );
    let maxConcurrent = 0;
    const pending = executor.run({ pipelineUuid: 'etl', pipelineRunId: 7 });
    for (let i = 0; i < 120; i++) {
      await clock.advance(1000);
      maxConcurrent = Math.max(maxConcurrent, active(jobClient.jobs()).length);
    }
    executor.close();
    await pending;
    expect(maxConcurrent).toBe(1);
    expect(jobClient.jobs().map((j) => j.metadata.name)).toEqual([LOAD]);
  });

  it('adopts attempt 1 (create → 409 → adopt) and reports its real outcome', async () => {
    const { clock, jobClient, executor } = setup(
      '  - uuid: load\n    retry_config:\n      retries: 1\n      delay: 5\n',
      60_000,
    );
    const result = await drive(clock, executor.run({ pipelineUuid: 'etl', pipelineRunId: 7 }));
    executor.close();
    expect(result.status).toBe('succeeded');
    expect(result.blocks[0]!.attempts).toEqual([
      expect.objectContaining({ attempt: 1, jobName: LOAD, status: 'succeeded', adopted: true }),
    ]);
    // Create (answer lost), the lookup finds the Job, the same attempt again: create → 409 → read → adopt.
    const onLoad = jobClient.calls
      .filter((c) => c.name === LOAD && (c.method === 'createJob' || c.method === 'getJob'))
      .map((c) => c.method);
    expect(onLoad).toEqual(['createJob', 'getJob', 'createJob', 'getJob']);
    expect(jobClient.createdJobs.map((j) => j.metadata.name)).toEqual([LOAD, LOAD]);
    expect(jobClient.jobs()).toEqual([]);
  });

  it('adopts it without retry_config too: the block is not failed while its Job runs', async () => {
    const { clock, jobClient, executor } = setup(
      '  - uuid: load\n  - uuid: report\n    upstream_blocks: [load]\n',
      1000,
    );
    const result = await drive(clock, executor.run({ pipelineUuid: 'etl', pipelineRunId: 7 }));
    executor.close();
    expect(result.status).toBe('succeeded');
    expect(result.blocks.map((b) => b.status)).toEqual(['succeeded', 'succeeded']);
    expect(jobClient.jobs()).toEqual([]);
  });

  it('when the lookup cannot be answered: no next attempt, and the cleanup still deletes the Job', async () => {
    const { clock, jobClient, executor } = setup(
      '  - uuid: load\n    retry_config:\n      retries: 3\n      delay: 1\n',
      1000,
    );
    jobClient.failWhen((call) => (call.method === 'getJob' ? unavailable('get', call.namespace) : undefined));
    const result = await drive(clock, executor.run({ pipelineUuid: 'etl', pipelineRunId: 7 }));
    executor.close();
    expect(result.status).toBe('failed');
    expect(result.blocks[0]).toMatchObject({ status: 'failed', reason: 'API_UNAVAILABLE' });
    expect(result.blocks[0]!.message).toMatch(/could not be read .* no further attempt is started/);
    expect(result.blocks[0]!.attempts).toHaveLength(1);
    // Tried a few times, spaced on the clock.
    expect(jobClient.calls.filter((c) => c.method === 'getJob')).toHaveLength(5);
    expect(jobClient.createdJobs.map((j) => j.metadata.name)).toEqual([LOAD]);
    // Attempt 1 has no record of its Job, but the run's cleanup found it by its labels and identity.
    expect(result.blocks[0]!.attempts[0]!.jobName).toBeUndefined();
    expect(jobClient.calls.filter((c) => c.method === 'deleteJob').map((c) => c.name)).toEqual([LOAD]);
    expect(jobClient.jobs()).toEqual([]);
  });
});

describe('a create refused before it reached the server (503)', () => {
  it('is found absent, so the retry starts attempt 2 as usual', async () => {
    const clock = new FakeClock();
    const jobClient = new InMemoryJobClient({ clock, defaultScript: [{ runMs: 1000 }] });
    jobClient.failNext('createJob', unavailable('create', 'default'));
    const executor = new K8sPipelineExecutor({
      configSource: new StaticConfigSource(
        projectFiles('  - uuid: load\n    retry_config:\n      retries: 1\n      delay: 5\n'),
      ),
      jobClient,
      clock,
      logDrainMs: 10,
    });
    const result = await drive(clock, executor.run({ pipelineUuid: 'etl', pipelineRunId: 7 }));
    executor.close();
    expect(result.status).toBe('succeeded');
    expect(result.blocks[0]!.attempts.map((a) => [a.attempt, a.status, a.reason])).toEqual([
      [1, 'failed', 'API_UNAVAILABLE'],
      [2, 'succeeded', undefined],
    ]);
    expect(jobClient.jobs()).toEqual([]);
  });
});
