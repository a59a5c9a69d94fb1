import { describe, expect, it } from 'vitest';
import { ApiError } from '../../src/errors/api-error.js';
import { ConfigError } from '../../src/errors/config-error.js';
import { K8sBlockExecutor } from '../../src/executor/block-executor.js';
import type { BlockEvent, BlockRun, LogLine } from '../../src/executor/types.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { InMemoryJobClient } from '../../src/testing/in-memory-job-client.js';
import type { PodScript } from '../../src/testing/pod-script.js';
import { StaticConfigSource } from '../../src/testing/static-config-source.js';
import { drive } from '../helpers/drive.js';
import { projectFiles } from '../helpers/project.js';

const RUN: BlockRun = { pipelineUuid: 'etl', blockUuid: 'load', pipelineRunId: 7, blockRunId: 42 };

function setup(blockConfig = '', env: Record<string, string> = {}) {
  const files = projectFiles(`  - uuid: load
    executor_type: k8s
${blockConfig}`);
  const clock = new FakeClock();
  const jobClient = new InMemoryJobClient({ clock });
  const executor = new K8sBlockExecutor({
    configSource: new StaticConfigSource(files, env),
    jobClient,
    clock,
    logDrainMs: 100,
  });
  return { clock, jobClient, executor };
}

const callsOf = (client: InMemoryJobClient, method: string) =>
  client.calls.filter((c) => c.method === method).length;

describe('K8sBlockExecutor', () => {
  it('GIVEN defaults WHEN a block succeeds THEN the Job is named, followed to success, and deleted', async () => {
    const { clock, jobClient, executor } = setup();
    jobClient.script('mage-data-prep-block-42', [{ pendingMs: 1000, runMs: 3000, logs: ['hello', 'done'] }]);
    const events: BlockEvent['type'][] = [];
    const result = await drive(clock, executor.execute(RUN, { onEvent: (e) => events.push(e.type) }));
    executor.close();

    expect(result).toMatchObject({
      status: 'succeeded',
      jobName: 'mage-data-prep-block-42',
      namespace: 'default',
      adopted: false,
    });
    expect(result.reason).toBeUndefined();
    expect(events).toEqual(['submitted', 'pending', 'running', 'succeeded']);
    expect(jobClient.createdJobs).toHaveLength(1);
    expect(jobClient.createdJobs[0]!.spec!.template.spec.containers[0]!.image).toBe('busybox:1.36');
    expect(jobClient.jobs()).toEqual([]);
    expect(result.timings.durationMs).toBeGreaterThanOrEqual(4000);
  });

  it('GIVEN a container that exits 3 THEN the result says EXIT_CODE 3 with the last log lines', async () => {
    const { clock, jobClient, executor } = setup();
    jobClient.script('mage-data-prep-block-42', [
      { runMs: 1000, logs: ['starting', 'boom: table missing'], exitCode: 3 },
    ]);
    const result = await drive(clock, executor.execute(RUN));
    executor.close();
    expect(result.status).toBe('failed');
    expect(result.reason).toBe('EXIT_CODE');
    expect(result.exitCode).toBe(3);
    expect(result.message).toMatch(/3/);
    expect(result.lastLogLines).toEqual(['starting', 'boom: table missing']);
  });

  it('GIVEN backoff_limit 2 WHEN two pods fail and the third succeeds THEN the block succeeds (Mage stops at the first)', async () => {
    const { clock, jobClient, executor } = setup(`    executor_config:
      job:
        backoff_limit: 2`);
    jobClient.script('mage-data-prep-block-42', [
      { runMs: 500, exitCode: 1 },
      { runMs: 500, exitCode: 1 },
      { runMs: 500, exitCode: 0 },
    ]);
    const result = await drive(clock, executor.execute(RUN));
    executor.close();
    expect(result.status).toBe('succeeded');
    expect(result.failedPods).toBe(2);
  });

  it('GIVEN a missing image WHEN the pod stays in ImagePullBackOff past the grace THEN it fails fast and the Job is deleted', async () => {
    const { clock, jobClient, executor } = setup();
    jobClient.script('mage-data-prep-block-42', [
      { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "busybox:nope"' } },
    ]);
    const result = await drive(clock, executor.execute(RUN));
    executor.close();
    expect(result.status).toBe('failed');
    expect(result.reason).toBe('IMAGE_PULL_FAILED');
    expect(jobClient.jobs()).toEqual([]);
  });

  it('streams log lines to the sink while the pod runs', async () => {
    const { clock, jobClient, executor } = setup();
    jobClient.script('mage-data-prep-block-42', [{ runMs: 2000, logs: ['one', 'two', 'three'] }]);
    const lines: LogLine[] = [];
    const result = await drive(clock, executor.execute(RUN, { onLog: (l) => lines.push(l) }));
    executor.close();
    expect(lines.map((l) => l.line)).toEqual(['one', 'two', 'three']);
    expect(lines[0]!.jobName).toBe('mage-data-prep-block-42');
    expect(result.lastLogLines).toEqual(['one', 'two', 'three']);
  });

  it('WHEN cancelled while running THEN the Job is deleted and the result is cancelled', async () => {
    const { clock, jobClient, executor } = setup();
    jobClient.script('mage-data-prep-block-42', [{ hang: true }]);
    const controller = new AbortController();
    const events: string[] = [];
    const pending = executor.execute(RUN, {
      signal: controller.signal,
      onEvent: (e) => {
        events.push(e.type);
        if (e.type === 'running') controller.abort(new Error('user pressed Ctrl-C'));
      },
    });
    const result = await drive(clock, pending);
    executor.close();
    expect(result.status).toBe('cancelled');
    expect(result.reason).toBe('CANCELLED');
    expect(events.at(-1)).toBe('cancelled');
    expect(jobClient.jobs()).toEqual([]);
    expect(jobClient.calls.find((c) => c.method === 'deleteJob')).toBeDefined();
  });

  it('GIVEN the Job of this run already exists (a restarted orchestrator) THEN it is adopted, not duplicated', async () => {
    const { clock, jobClient, executor } = setup();
    jobClient.script('mage-data-prep-block-42', [{ runMs: 5000 }]);
    // A first executor created the Job, then crashed before it finished.
    const prepared = await executor.prepare(RUN);
    await jobClient.createJob('default', prepared.job);
    const result = await drive(clock, executor.execute(RUN));
    executor.close();
    expect(result.status).toBe('succeeded');
    expect(result.adopted).toBe(true);
    // Our create was refused with 409 and the existing Job was followed: one Job, one pod.
    expect(callsOf(jobClient, 'createJob')).toBe(2);
    expect(jobClient.jobs()).toEqual([]);
  });

  it('GIVEN a foreign Job with the same name THEN it refuses with JOB_NAME_COLLISION and leaves it alone', async () => {
    const { clock, jobClient, executor } = setup();
    await jobClient.createJob('default', {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'mage-data-prep-block-42', namespace: 'default' },
      spec: { template: { spec: { containers: [{ name: 'x', image: 'x' }], restartPolicy: 'Never' } } },
    });
    await expect(drive(clock, executor.execute(RUN))).rejects.toMatchObject({ code: 'JOB_NAME_COLLISION' });
    executor.close();
    expect(jobClient.jobs().map((j) => j.metadata.name)).toEqual(['mage-data-prep-block-42']);
  });

  it('GIVEN an invalid config THEN a ConfigError is thrown and the API is never called', async () => {
    const { clock, jobClient, executor } = setup(`    executor_config:
      resource_limits:
        memory: 2GB`);
    const error = await drive(clock, executor.execute(RUN)).catch((e: unknown) => e);
    executor.close();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues.map((i) => i.code)).toContain('INVALID_QUANTITY');
    expect(jobClient.calls).toEqual([]);
  });

  it('GIVEN ttl_seconds_after_finished THEN the finished Job is left for Kubernetes to clean up', async () => {
    const { clock, jobClient, executor } = setup(`    executor_config:
      job:
        ttl_seconds_after_finished: 600`);
    jobClient.script('mage-data-prep-block-42', [{ runMs: 500 }]);
    await drive(clock, executor.execute(RUN));
    executor.close();
    expect(callsOf(jobClient, 'deleteJob')).toBe(0);
    expect(jobClient.jobs()).toHaveLength(1);
  });

  it('GIVEN the API refuses the create (403) THEN the classified error is thrown', async () => {
    const { clock, jobClient, executor } = setup();
    jobClient.failNext(
      'createJob',
      new ApiError('API_FORBIDDEN', 'cannot "create" "jobs"', {
        status: 403,
        operation: { verb: 'create', resource: 'jobs', group: 'batch', namespace: 'default' },
      }),
    );
    await expect(drive(clock, executor.execute(RUN))).rejects.toMatchObject({ code: 'API_FORBIDDEN' });
    executor.close();
  });

  it('uses few API calls for a successful block: one create and one delete besides the shared watch', async () => {
    const { clock, jobClient, executor } = setup();
    jobClient.script('mage-data-prep-block-42', [{ runMs: 60_000 }]);
    await drive(clock, executor.execute(RUN), 1000);
    executor.close();
    expect(callsOf(jobClient, 'createJob')).toBe(1);
    expect(callsOf(jobClient, 'deleteJob')).toBe(1);
    expect(callsOf(jobClient, 'getJob')).toBe(0);
    expect(callsOf(jobClient, 'watchJobs')).toBe(1);
  });
});

describe('K8sBlockExecutor failure reasons (in-memory cluster, fake clock)', () => {
  const cases: {
    name: string;
    config?: string;
    script: PodScript[];
    reason: string;
    message: RegExp;
    jobKept?: boolean;
  }[] = [
    {
      name: 'OOMKilled names the container',
      script: [{ runMs: 1000, oomKilled: true }],
      reason: 'OOM_KILLED',
      message: /mage-job-container.*OOMKilled/,
    },
    {
      name: 'an unschedulable pod fails after the unschedulable timeout, quoting the scheduler',
      script: [{ unschedulable: { message: '0/3 nodes are available: 3 Insufficient nvidia.com/gpu.' } }],
      reason: 'UNSCHEDULABLE',
      message: /Insufficient nvidia\.com\/gpu/,
    },
    {
      name: 'an evicted pod is named',
      script: [{ runMs: 1000, evicted: { message: 'The node was low on resource: ephemeral-storage.' } }],
      reason: 'EVICTED',
      message: /ephemeral-storage/,
    },
    {
      name: 'a missing secret fails as CONTAINER_CONFIG_ERROR after its grace',
      script: [{ waiting: { reason: 'CreateContainerConfigError', message: 'secret "db-creds" not found' } }],
      reason: 'CONTAINER_CONFIG_ERROR',
      message: /db-creds/,
    },
    {
      name: 'active_deadline_seconds gives DEADLINE_EXCEEDED',
      config: `    executor_config:
      job:
        active_deadline_seconds: 30`,
      script: [{ hang: true }],
      reason: 'DEADLINE_EXCEEDED',
      message: /30 s/,
    },
  ];

  for (const c of cases) {
    it(c.name, async () => {
      const { clock, jobClient, executor } = setup(c.config ?? '');
      jobClient.script('mage-data-prep-block-42', c.script);
      const result = await drive(clock, executor.execute(RUN), 1000);
      executor.close();
      expect(result.status).toBe('failed');
      expect(result.reason).toBe(c.reason);
      expect(result.message).toMatch(c.message);
      expect(jobClient.jobs()).toEqual([]);
    });
  }

  it('a Job deleted from outside while it runs gives JOB_DELETED', async () => {
    const { clock, jobClient, executor } = setup();
    jobClient.script('mage-data-prep-block-42', [{ hang: true }]);
    const pending = executor.execute(RUN, {
      onEvent: (e) => {
        if (e.type === 'running') jobClient.deleteFromOutside('default', 'mage-data-prep-block-42');
      },
    });
    const result = await drive(clock, pending);
    executor.close();
    expect(result.reason).toBe('JOB_DELETED');
  });

  it('every waiting state is bounded: a pod pending forever fails within the pending timeout', async () => {
    const { clock, jobClient, executor } = setup();
    jobClient.script('mage-data-prep-block-42', [{ waiting: { reason: 'ContainerCreating' } }]);
    const result = await drive(clock, executor.execute(RUN), 10_000);
    executor.close();
    expect(result.status).toBe('failed');
    expect(result.timings.durationMs).toBeLessThanOrEqual(15 * 60_000 + 10_000);
  });
});

describe('K8sBlockExecutor when the Job cannot be observed', () => {
  it('GIVEN `list` on jobs is forbidden THEN execute fails at once with API_FORBIDDEN and leaves the Job it created running', async () => {
    const { clock, jobClient, executor } = setup();
    jobClient.script('mage-data-prep-block-42', [{ hang: true }]);
    jobClient.failWhen((call) =>
      call.method === 'listJobs'
        ? new ApiError('API_FORBIDDEN', 'cannot "list" "jobs" (group "batch") in namespace "default"', {
            status: 403,
            operation: { verb: 'list', resource: 'jobs', group: 'batch', namespace: 'default' },
          })
        : undefined,
    );
    const error = await drive(clock, executor.execute(RUN)).catch((e: unknown) => e);
    executor.close();
    expect(error).toMatchObject({ code: 'API_FORBIDDEN' });
    expect((error as Error).message).toMatch(/"list" "jobs"/);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as Error).message).toMatch(
      /Job "mage-data-prep-block-42" in namespace "default" was left running: .*kubectl delete job mage-data-prep-block-42 -n default/,
    );
    // Whether to delete it is the user's choice: it may well finish.
    expect(jobClient.jobs().map((j) => j.metadata.name)).toEqual(['mage-data-prep-block-42']);
    expect(jobClient.calls.filter((c) => c.method === 'deleteJob')).toEqual([]);
  });
});

describe('K8sBlockExecutor lifecycle edges', () => {
  it('closing the executor while a block runs ends that run (no endless wait) and leaves its Job to be adopted', async () => {
    const { clock, jobClient, executor } = setup();
    jobClient.script('mage-data-prep-block-42', [{ runMs: 60_000 }]);
    const pending = executor.execute(RUN, { onEvent: (e) => e.type === 'running' && executor.close() });
    const error = await drive(clock, pending).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'CANCELLED' });
    expect((error as Error).message).toMatch(/keeps running.*adopt/);
    expect(jobClient.jobs().map((j) => j.metadata.name)).toEqual(['mage-data-prep-block-42']);
    // A new executor (same ports) adopts it and finishes it.
    const next = new K8sBlockExecutor({
      configSource: new StaticConfigSource(projectFiles('  - uuid: load\n')),
      jobClient,
      clock,
      logDrainMs: 100,
    });
    const result = await drive(clock, next.execute(RUN));
    next.close();
    expect(result).toMatchObject({ status: 'succeeded', adopted: true });
  });

  it('a failed server-pod lookup is not cached: the next run looks again', async () => {
    const { clock, jobClient } = setup();
    let lookups = 0;
    const executor = new K8sBlockExecutor({
      configSource: new StaticConfigSource(projectFiles('  - uuid: load\n')),
      jobClient,
      clock,
      podIntrospector: {
        currentPod: async () => {
          lookups++;
          if (lookups === 1) throw new Error('API server briefly unavailable');
          return undefined;
        },
      },
    });
    await expect(executor.prepare(RUN)).rejects.toThrow('briefly unavailable');
    await expect(executor.prepare(RUN)).resolves.toMatchObject({ jobName: 'mage-data-prep-block-42' });
    await executor.prepare(RUN);
    expect(lookups).toBe(2);
    executor.close();
  });

  it('an abort while the adopted Job is being read returns cancelled and deletes it', async () => {
    const { clock, jobClient, executor } = setup();
    jobClient.script('mage-data-prep-block-42', [{ hang: true }]);
    await jobClient.createJob('default', (await executor.prepare(RUN)).job);
    const controller = new AbortController();
    jobClient.failWhen((call) => {
      if (call.method === 'getJob') controller.abort(new Error('stop'));
      return undefined;
    });
    const result = await drive(clock, executor.execute(RUN, { signal: controller.signal }));
    executor.close();
    expect(result).toMatchObject({ status: 'cancelled', reason: 'CANCELLED' });
    expect(result.message).toMatch(/was deleted/);
    expect(jobClient.jobs()).toEqual([]);
  });
});
