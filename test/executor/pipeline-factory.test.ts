import { describe, expect, it, vi } from 'vitest';
import type { ClientNodeOptions } from '../../src/adapters/client-node/index.js';
import { type CreateExecutorsOptions, createExecutors } from '../../src/create.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { InMemoryJobClient } from '../../src/testing/in-memory-job-client.js';
import { StaticConfigSource } from '../../src/testing/static-config-source.js';
import { drive } from '../helpers/drive.js';
import { projectFiles } from '../helpers/project.js';

/** What the (mocked) client-node adapter was created with, and the calls its JobClient got. */
const adapter = vi.hoisted(() => ({ options: [] as unknown[], calls: [] as string[] }));

vi.mock('../../src/adapters/client-node/index.js', () => ({
  createClientNodeAdapters: (options: ClientNodeOptions) => {
    adapter.options.push(options);
    return {
      jobClient: {
        getJob: async (namespace: string, name: string) => {
          adapter.calls.push(`getJob ${namespace}/${name}`);
          return undefined;
        },
      },
      podIntrospector: { currentPod: async () => undefined },
    };
  },
}));

describe('createExecutors: the lazy client-node JobClient', () => {
  it('can be returned from an async function (it is not thenable)', async () => {
    const { jobClient, close } = createExecutors({
      projectDir: '/nonexistent',
      env: { HOME: '/nonexistent' },
    });
    const getClient = async () => jobClient; // a DI factory, a test helper...
    const settled = await Promise.race([
      getClient().then(() => 'settled'),
      new Promise((r) => setTimeout(() => r('still pending after 1 s'), 1000)),
    ]);
    await close();
    expect(settled).toBe('settled');
    expect('then' in jobClient).toBe(false);
    // Nothing was loaded: the adapter comes with the first call.
    expect(adapter.options).toEqual([]);
  });

  it('loads the adapter on the first call, once, with every client-node setting passed through', async () => {
    adapter.options.length = 0;
    const clock = new FakeClock();
    const env = { HOME: '/nonexistent' };
    const options = {
      projectDir: '/nonexistent',
      env,
      clock,
      context: 'staging',
      kubeconfigPath: '/etc/kube/config',
      qps: 5,
      burst: 10,
      retry: { maxAttempts: 2 },
      requestTimeoutMs: 1234,
      // A setting the adapter might gain later goes through without a change to the factory.
      someFutureSetting: 'x',
    } as CreateExecutorsOptions;
    const { jobClient, close } = createExecutors(options);
    expect(await jobClient.getJob('etl', 'a')).toBeUndefined();
    await jobClient.getJob('etl', 'b');
    await close();
    expect(adapter.calls.slice(-2)).toEqual(['getJob etl/a', 'getJob etl/b']);
    expect(adapter.options).toHaveLength(1);
    expect(adapter.options[0]).toMatchObject({
      clock,
      env,
      context: 'staging',
      kubeconfigPath: '/etc/kube/config',
      qps: 5,
      burst: 10,
      retry: { maxAttempts: 2 },
      requestTimeoutMs: 1234,
      someFutureSetting: 'x',
    });
  });
});

describe('createExecutors with a jobClient', () => {
  function setup() {
    const clock = new FakeClock();
    const jobClient = new InMemoryJobClient({
      clock,
      defaultScript: [{ runMs: 60_000 }],
    });
    const executors = createExecutors({
      projectDir: '/unused',
      configSource: new StaticConfigSource(
        projectFiles('  - uuid: load\n  - uuid: report\n    upstream_blocks: [load]\n'),
      ),
      jobClient,
      clock,
      logDrainMs: 10,
    });
    return { clock, jobClient, executors };
  }

  it('runs an orchestrator built on the factory against the in-memory API server', async () => {
    adapter.options.length = 0;
    const { clock, jobClient, executors } = setup();
    const result = await drive(clock, executors.pipelines.run({ pipelineUuid: 'etl', pipelineRunId: 3 }));
    await executors.close();
    expect(result.status).toBe('succeeded');
    expect(jobClient.createdJobs.map((j) => j.metadata.name)).toEqual([
      'mage-data-prep-block-3-load',
      'mage-data-prep-block-3-report',
    ]);
    expect(executors.jobClient).toBe(jobClient);
    expect(adapter.options).toEqual([]); // client-node was never loaded
  });

  it('close() ends the runs in flight as closed and leaves their Jobs running', async () => {
    const { clock, jobClient, executors } = setup();
    const run = executors.pipelines.run({ pipelineUuid: 'etl', pipelineRunId: 3 });
    await clock.advance(5000);
    await executors.close();
    const result = await run;
    expect(result).toMatchObject({ status: 'cancelled', closed: true });
    expect(result.blocks[0]!.attempts[0]).toMatchObject({ leftRunning: true });
    expect(jobClient.jobs().map((j) => j.metadata.name)).toEqual(['mage-data-prep-block-3-load']);
    // The factory does not close a client it was given.
    expect(await jobClient.getJob('default', 'mage-data-prep-block-3-load')).toBeDefined();
  });
});
