import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors/config-error.js';
import { nextAttempt } from '../../src/executor/dag-retry.js';
import type { AttemptRecord } from '../../src/executor/pipeline-types.js';
import {
  cluster,
  job,
  LOAD_AND_REPORT,
  memoryOf,
  project,
  running,
  runToEnd,
  runUntilClosed,
  setIn,
} from './dag-drift-setup.js';

/**
 * Config drift on resume, what the run does (the documented default): a succeeded block is kept unless
 * `rerunChanged` asks (then a new attempt, with its whole retry_config), a running one is adopted with
 * a warning, a failed one's retry runs the new config.
 */

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
