import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors/config-error.js';
import { K8sBlockExecutor } from '../../src/executor/block-executor.js';
import { nextAttempt } from '../../src/executor/dag-retry.js';
import { K8sPipelineExecutor, type PipelineExecutorOptions } from '../../src/executor/pipeline-executor.js';
import type { AttemptRecord, ConfigDriftEvent, PipelineRun } from '../../src/executor/pipeline-types.js';
import {
  CONFIG_FIELDS_ANNOTATION,
  CONFIG_HASH_ANNOTATION,
  configDrift,
  recordedConfig,
} from '../../src/spec/drift.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { InMemoryJobClient } from '../../src/testing/in-memory-job-client.js';
import type { PodScript } from '../../src/testing/pod-script.js';
import { StaticConfigSource } from '../../src/testing/static-config-source.js';
import type { Job } from '../../src/types/kube.js';
import { drive } from '../helpers/drive.js';
import { projectFiles } from '../helpers/project.js';

/**
 * Config drift on resume: a resumed run compares each block's latest earlier attempt (its Job's config
 * record) with the block's config now, resolved for that same attempt and run ids, names what changed
 * and where it is set now, and follows the documented default: a succeeded block is kept unless
 * `rerunChanged` asks, a running one is adopted with a warning, a failed one's retry runs the new config.
 */

const RUN = { pipelineUuid: 'etl', pipelineRunId: 7 } as const;
const job = (uuid: string, attempt = 1) =>
  `mage-data-prep-block-7-${uuid}${attempt > 1 ? `-attempt-${attempt}` : ''}`;

/** A cluster (the fake clock and the Jobs' store) that outlives the executors run against it. */
function cluster(defaultScript: PodScript[] = [{ runMs: 1000 }]) {
  const clock = new FakeClock();
  const jobClient = new InMemoryJobClient({ clock, defaultScript });
  const creates = () => jobClient.calls.filter((c) => c.method === 'createJob').length;
  return { clock, jobClient, creates };
}
type Cluster = ReturnType<typeof cluster>;

/** The project whose pipeline `etl` has `blocksYaml`. */
const project = (blocksYaml: string, projectConfig = '') => projectFiles(blocksYaml, projectConfig);

/** A new executor (a new orchestrator process) over `files`; Jobs are kept so a later run can resume. */
function executorFor(
  c: Cluster,
  files: Record<string, string>,
  options: Partial<PipelineExecutorOptions> = {},
) {
  return new K8sPipelineExecutor({
    configSource: new StaticConfigSource(files),
    jobClient: c.jobClient,
    clock: c.clock,
    keepJobs: true,
    logDrainMs: 10,
    ...options,
  });
}

/** Runs pipeline run 7 to its end on a new executor; returns the result and the drift events. */
async function runToEnd(
  c: Cluster,
  files: Record<string, string>,
  run: Partial<PipelineRun> = {},
  options: Partial<PipelineExecutorOptions> = {},
) {
  const executor = executorFor(c, files, options);
  const drift: ConfigDriftEvent[] = [];
  const result = await drive(
    c.clock,
    executor.run({ ...RUN, ...run }, { onEvent: (e) => e.type === 'config-drift' && drift.push(e) }),
  );
  executor.close();
  return { result, drift };
}

/** Runs pipeline run 7 on a new executor until `stop()` holds, then closes it (a shutdown, Jobs left). */
async function runUntilClosed(c: Cluster, files: Record<string, string>, stop: () => boolean) {
  const executor = executorFor(c, files);
  const drift: ConfigDriftEvent[] = [];
  const run = executor.run(RUN, { onEvent: (e) => e.type === 'config-drift' && drift.push(e) });
  for (let i = 0; i < 1000 && !stop(); i++) await c.clock.advance(250);
  expect(stop()).toBe(true);
  executor.close();
  const result = await run;
  expect(result.closed).toBe(true);
  return { result, drift };
}

/** Whether a pod of Job `name` is running. */
const running = (c: Cluster, name: string) =>
  c.jobClient.pods().some((p) => p.metadata.labels?.['job-name'] === name && p.status?.phase === 'Running');

/** `pipelines/etl/metadata.yaml:N`, N the first line of that file in `files` that contains `needle`. */
function setIn(files: Record<string, string>, needle: string): string {
  const path = 'pipelines/etl/metadata.yaml';
  const line = files[path]!.split('\n').findIndex((l) => l.includes(needle)) + 1;
  expect(line).toBeGreaterThan(0);
  return `set in ${path}:${line}`;
}

const memoryOf = (j: Job | undefined) => j?.spec?.template.spec.containers[0]?.resources?.limits?.memory;

const LOAD_AND_REPORT = (memory: string) => `  - uuid: load
    executor_config:
      resource_limits:
        memory: ${memory}
  - uuid: report
    upstream_blocks: [load]
`;

describe('a resumed run whose block config changed', () => {
  it('names the changed memory limit and the file:line of its new value, and keeps the succeeded block', async () => {
    const c = cluster();
    const first = await runToEnd(c, project(LOAD_AND_REPORT('2Gi')));
    expect(first.result.status).toBe('succeeded');
    expect(first.drift).toEqual([]);
    const before = c.creates();

    const edited = project(LOAD_AND_REPORT('4Gi'));
    const sentence = 'container.resources.limits.memory 2Gi → 4Gi, set in pipelines/etl/metadata.yaml:6';
    expect(setIn(edited, 'memory: 4Gi')).toBe('set in pipelines/etl/metadata.yaml:6');
    const { result, drift } = await runToEnd(c, edited);

    expect(drift).toEqual([
      {
        type: 'config-drift',
        blockUuid: 'load',
        attempt: 1,
        jobName: job('load'),
        earlier: 'succeeded',
        action: 'kept',
        changes: [sentence],
        at: expect.any(Number),
      },
    ]);
    expect(result.status).toBe('succeeded');
    const [load, report] = result.blocks;
    expect(load!.attempts).toEqual([
      expect.objectContaining({
        attempt: 1,
        status: 'succeeded',
        fromEarlierRun: true,
        configDrift: [sentence],
      }),
    ]);
    expect(report!.attempts).toEqual([expect.objectContaining({ attempt: 1, fromEarlierRun: true })]);
    expect(report!.attempts[0]!.configDrift).toBeUndefined();
    // Not run again: nothing was created.
    expect(c.creates()).toBe(before);
  });

  it('reports nothing when the config did not change', async () => {
    const c = cluster();
    await runToEnd(c, project(LOAD_AND_REPORT('2Gi')));
    const { result, drift } = await runToEnd(c, project(LOAD_AND_REPORT('2Gi')), { rerunChanged: true });
    expect(drift).toEqual([]);
    expect(result.blocks.flatMap((b) => b.attempts).every((a) => a.configDrift === undefined)).toBe(true);
    expect(result.blocks.map((b) => b.attempts.length)).toEqual([1, 1]);
  });

  it('does not count args templated from the attempt: each attempt is compared at its own number', async () => {
    // The demo project's command: `--attempt {{ attempt }}` differs between attempts by design.
    const args = '    args: ["--attempt", "{{ attempt }}", "--run", "{{ pipeline_run_id }}"]\n';
    const files = project(
      `  - uuid: load
    retry_config:
      retries: 2
      delay: 60
`,
      args,
    );
    const c = cluster();
    c.jobClient.script(job('load', 1), [{ runMs: 100, exitCode: 1 }]);
    c.jobClient.script(job('load', 2), [{ runMs: 10 * 60_000 }]);

    // Run 1: attempt 1 fails; closed during the retry delay.
    const one = await runUntilClosed(c, files, () => c.jobClient.jobs().some((j) => j.status?.failed));
    expect(one.result.blocks[0]!.status).toBe('cancelled');
    // Run 2: the latest attempt (1) failed: attempt 2 starts; closed while it runs.
    const two = await runUntilClosed(c, files, () => running(c, job('load', 2)));
    expect(two.drift).toEqual([]);
    // Run 3: attempt 2 is running: adopted, it succeeds.
    const three = await runToEnd(c, files);
    expect(three.drift).toEqual([]);
    expect(three.result.blocks[0]!.attempts.at(-1)).toMatchObject({ attempt: 2, adopted: true });
    expect(three.result.blocks[0]!.attempts.at(-1)!.configDrift).toBeUndefined();
    // Run 4: attempt 2 succeeded: kept, still no drift.
    const four = await runToEnd(c, files, { rerunChanged: true });
    expect(four.drift).toEqual([]);
    expect(four.result.blocks[0]).toMatchObject({ status: 'succeeded' });

    // The records do differ between attempts: comparing attempt 1's with attempt 2's would be drift.
    const [first, second] = [job('load', 1), job('load', 2)].map(
      (name) => c.jobClient.jobs().find((j) => j.metadata.name === name)!,
    );
    expect(recordedConfig(first!)?.fields?.['container.args']).toBe('["--attempt","1","--run","7"]');
    expect(recordedConfig(second!)?.fields?.['container.args']).toBe('["--attempt","2","--run","7"]');
    expect(configDrift(first!, second!)?.changed).toBe(true);
  });
});

const FOUR_BLOCKS = (a: string, c: string) => `  - uuid: a
    executor_config:
      resource_limits: {memory: ${a}}
  - uuid: b
    upstream_blocks: [a]
  - uuid: c
    executor_config:
      cpu: ${c}
  - uuid: d
`;

describe('rerunChanged', () => {
  it('runs again, as a new attempt, exactly the succeeded blocks whose config changed', async () => {
    const c = cluster();
    await runToEnd(c, project(FOUR_BLOCKS('2Gi', '1')));
    const created = c.jobClient.createdJobs.length;

    const edited = project(FOUR_BLOCKS('4Gi', '2'));
    const { result, drift } = await runToEnd(c, edited, { rerunChanged: true });

    expect(result.status).toBe('succeeded');
    expect(drift.map((e) => [e.blockUuid, e.action, e.changes])).toEqual([
      ['a', 'rerun', [`container.resources.limits.memory 2Gi → 4Gi, ${setIn(edited, 'memory: 4Gi')}`]],
      ['c', 'rerun', [`container.resources.requests.cpu 1 → 2, ${setIn(edited, 'cpu: 2')}`]],
    ]);
    expect(c.jobClient.createdJobs.slice(created).map((j) => j.metadata.name)).toEqual([
      job('a', 2),
      job('c', 2),
    ]);
    const byUuid = Object.fromEntries(result.blocks.map((b) => [b.uuid, b]));
    expect(byUuid.a!.attempts).toEqual([
      expect.objectContaining({
        attempt: 1,
        status: 'succeeded',
        fromEarlierRun: true,
        configDrift: drift[0]!.changes,
      }),
      expect.objectContaining({ attempt: 2, status: 'succeeded', jobName: job('a', 2) }),
    ]);
    expect(byUuid.a!.attempts[1]!.fromEarlierRun).toBeUndefined();
    // The new attempt runs the config now.
    expect(memoryOf(c.jobClient.createdJobs.find((j) => j.metadata.name === job('a', 2)))).toBe('4Gi');
    // b (downstream of a, unchanged) and d are kept.
    for (const uuid of ['b', 'd'])
      expect(byUuid[uuid]!.attempts).toEqual([expect.objectContaining({ attempt: 1, fromEarlierRun: true })]);
  });

  it('takes a list of the blocks it may run again; the others are reported and kept', async () => {
    const c = cluster();
    await runToEnd(c, project(FOUR_BLOCKS('2Gi', '1')));
    const created = c.jobClient.createdJobs.length;
    const { result, drift } = await runToEnd(c, project(FOUR_BLOCKS('4Gi', '2')), {
      rerunChanged: ['c', 'd'],
    });
    expect(drift.map((e) => [e.blockUuid, e.action])).toEqual([
      ['a', 'kept'],
      ['c', 'rerun'],
    ]);
    expect(c.jobClient.createdJobs.slice(created).map((j) => j.metadata.name)).toEqual([job('c', 2)]);
    expect(result.blocks.map((b) => b.attempts.length)).toEqual([1, 1, 2, 1]);
  });

  it('refuses a block the pipeline does not have, before any Job is created', async () => {
    const c = cluster();
    const error = await runToEnd(c, project(FOUR_BLOCKS('2Gi', '1')), { rerunChanged: ['a', 'nope'] }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues).toEqual([
      expect.objectContaining({
        code: 'UNKNOWN_BLOCK',
        path: 'rerunChanged',
        message: expect.stringContaining('"nope"'),
      }),
    ]);
    expect(c.creates()).toBe(0);
  });

  it('gives a block run again its whole retry_config', async () => {
    const blocks = (memory: string) => `  - uuid: load
    retry_config: {retries: 1, delay: 1}
    executor_config:
      resource_limits: {memory: ${memory}}
`;
    const c = cluster();
    await runToEnd(c, project(blocks('2Gi')));
    c.jobClient.script(job('load', 2), [{ runMs: 100, exitCode: 1 }]);
    const { result } = await runToEnd(c, project(blocks('4Gi')), { rerunChanged: true });
    expect(result.blocks[0]).toMatchObject({ status: 'succeeded' });
    expect(result.blocks[0]!.attempts.map((a) => [a.attempt, a.status])).toEqual([
      [1, 'succeeded'],
      [2, 'failed'],
      [3, 'succeeded'],
    ]);
  });
});

describe('nextAttempt after a success', () => {
  const record = (attempt: number, status: AttemptRecord['status']): AttemptRecord => ({
    attempt,
    status,
    startedAt: 0,
    finishedAt: 0,
  });

  it('counts only the attempts after the latest success', () => {
    const retry = { retries: 1, delaySeconds: 5, maxDelaySeconds: 60, exponentialBackoff: false };
    expect(nextAttempt(retry, 3, [record(1, 'succeeded'), record(2, 'failed')])).toEqual({
      kind: 'retry',
      attempt: 3,
      delayMs: 5000,
    });
    expect(nextAttempt(retry, 3, [record(1, 'succeeded'), record(2, 'failed'), record(3, 'failed')])).toEqual(
      {
        kind: 'none',
      },
    );
    // Without a success, as before: attempt numbers count every failure, recorded or not.
    expect(nextAttempt(retry, 3, [record(2, 'failed')])).toEqual({ kind: 'none' });
  });
});

describe('an earlier attempt that is running or failed', () => {
  it('adopts a running attempt as it is, with a warning naming the changes', async () => {
    const c = cluster([{ runMs: 10 * 60_000 }]);
    await runUntilClosed(c, project(LOAD_AND_REPORT('2Gi')), () => running(c, job('load')));
    const jobsBefore = c.jobClient.jobs().map((j) => j.metadata.name);

    const edited = project(LOAD_AND_REPORT('4Gi'));
    const { result, drift } = await runToEnd(c, edited, { rerunChanged: true });

    const changes = [`container.resources.limits.memory 2Gi → 4Gi, ${setIn(edited, 'memory: 4Gi')}`];
    expect(drift).toEqual([
      expect.objectContaining({
        blockUuid: 'load',
        attempt: 1,
        earlier: 'active',
        action: 'adopted',
        changes,
      }),
    ]);
    expect(result.status).toBe('succeeded');
    expect(result.blocks[0]!.attempts).toEqual([
      expect.objectContaining({ attempt: 1, status: 'succeeded', adopted: true, configDrift: changes }),
    ]);
    // No second Job: the running one (with the earlier config) was followed.
    expect(jobsBefore).toEqual([job('load')]);
    expect(c.jobClient.jobs().map((j) => j.metadata.name)).toEqual([job('load'), job('report')]);
    expect(memoryOf(c.jobClient.jobs().find((j) => j.metadata.name === job('load')))).toBe('2Gi');
  });

  it("reports the change when a failed attempt's retry runs the new config", async () => {
    const blocks = (memory: string) => `  - uuid: load
    retry_config: {retries: 1, delay: 60}
    executor_config:
      resource_limits: {memory: ${memory}}
`;
    const c = cluster();
    c.jobClient.script(job('load', 1), [{ runMs: 100, oomKilled: true }]);
    await runUntilClosed(c, project(blocks('2Gi')), () => c.jobClient.jobs().some((j) => j.status?.failed));

    const edited = project(blocks('4Gi'));
    const { result, drift } = await runToEnd(c, edited);

    const changes = [`container.resources.limits.memory 2Gi → 4Gi, ${setIn(edited, 'memory: 4Gi')}`];
    expect(drift).toEqual([
      expect.objectContaining({
        blockUuid: 'load',
        attempt: 1,
        earlier: 'failed',
        action: 'retried',
        changes,
      }),
    ]);
    expect(result.blocks[0]).toMatchObject({ status: 'succeeded' });
    expect(result.blocks[0]!.attempts).toEqual([
      expect.objectContaining({
        attempt: 1,
        status: 'failed',
        reason: 'OOM_KILLED',
        fromEarlierRun: true,
        configDrift: changes,
      }),
      expect.objectContaining({ attempt: 2, status: 'succeeded' }),
    ]);
    expect(result.blocks[0]!.attempts[1]!.configDrift).toBeUndefined();
    expect(memoryOf(c.jobClient.jobs().find((j) => j.metadata.name === job('load', 2)))).toBe('4Gi');
  });
});

describe('what cannot be told is never drift', () => {
  it('treats a Job without a config record (an older version) as unknown', async () => {
    const c = cluster();
    const old = project(LOAD_AND_REPORT('2Gi'));
    const blocks = new K8sBlockExecutor({
      configSource: new StaticConfigSource(old),
      jobClient: c.jobClient,
      clock: c.clock,
    });
    for (const uuid of ['load', 'report']) {
      const prepared = await blocks.prepare({ ...RUN, blockUuid: uuid, blockRunId: `7-${uuid}` });
      const annotations = { ...prepared.job.metadata.annotations };
      delete annotations[CONFIG_HASH_ANNOTATION];
      delete annotations[CONFIG_FIELDS_ANNOTATION];
      await c.jobClient.createJob('default', {
        ...prepared.job,
        metadata: { ...prepared.job.metadata, annotations },
      });
    }
    await c.clock.advance(5000);
    const before = c.creates();

    const { result, drift } = await runToEnd(c, project(LOAD_AND_REPORT('4Gi')), { rerunChanged: true });

    expect(drift).toEqual([]);
    expect(result.blocks.map((b) => [b.uuid, b.status, b.attempts.length])).toEqual([
      ['load', 'succeeded', 1],
      ['report', 'succeeded', 1],
    ]);
    expect(c.creates()).toBe(before);
  });

  it("compares with the upstream output the earlier run's pods give, naming only the real change", async () => {
    const blocks = (memory: string) => `  - uuid: extract
  - uuid: load
    upstream_blocks: [extract]
    executor_config:
      resource_limits: {memory: ${memory}}
      container:
        args: ["--inputs", "{{ variables('upstream_outputs') }}"]
`;
    const c = cluster();
    c.jobClient.script(job('extract'), [{ runMs: 100, terminationMessage: '{"rows": 3}' }]);
    const first = await runToEnd(c, project(blocks('2Gi')));
    expect(first.result.blocks[1]!.attempts).toHaveLength(1);
    const args = recordedConfig(c.jobClient.jobs().find((j) => j.metadata.name === job('load'))!)?.fields;
    expect(args?.['container.args']).toBe('["--inputs","{\\"extract\\":{\\"rows\\":3}}"]');

    const same = await runToEnd(c, project(blocks('2Gi')));
    expect(same.drift).toEqual([]);
    const edited = project(blocks('4Gi'));
    const changed = await runToEnd(c, edited);
    expect(changed.drift.map((e) => [e.blockUuid, e.changes])).toEqual([
      ['load', [`container.resources.limits.memory 2Gi → 4Gi, ${setIn(edited, 'memory: 4Gi')}`]],
    ]);
  });

  it('reports nothing for a block whose template uses an upstream output no Job keeps (a local block)', async () => {
    const blocks = (memory: string) => `  - uuid: prep
    executor_type: local_python_force
  - uuid: load
    upstream_blocks: [prep]
    executor_config:
      resource_limits: {memory: ${memory}}
      container:
        args: ["--inputs", "{{ variables('upstream_outputs') }}"]
`;
    const localRunner = async () => ({ status: 'succeeded' as const, output: { rows: 3 } });
    const c = cluster();
    await runToEnd(c, project(blocks('2Gi')), {}, { localRunner });
    // The local block runs again in every run; load's earlier attempt is kept, and its input unknown.
    const { result, drift } = await runToEnd(
      c,
      project(blocks('4Gi')),
      { rerunChanged: true },
      { localRunner },
    );
    expect(drift).toEqual([]);
    expect(result.blocks[1]!.attempts).toEqual([
      expect.objectContaining({ attempt: 1, fromEarlierRun: true }),
    ]);
  });
});
