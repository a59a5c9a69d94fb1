import { describe, expect, it } from 'vitest';
import { K8sPipelineExecutor } from '../../src/executor/pipeline-executor.js';
import type { Clock } from '../../src/ports/clock.js';
import type { CallOptions, JobClient } from '../../src/ports/job-client.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { InMemoryJobClient } from '../../src/testing/in-memory-job-client.js';
import { StaticConfigSource } from '../../src/testing/static-config-source.js';
import type { Job } from '../../src/types/kube.js';
import { drive } from '../helpers/drive.js';
import { projectFiles } from '../helpers/project.js';

/**
 * An orchestrator process dies in the middle of a pipeline run (no cancel, no cleanup: it just stops),
 * and a new process runs the same pipeline run. The new one must adopt every Job the dead one left —
 * finished or still running — create only the missing ones, and never a second Job for a block.
 */

/** The in-memory API server, counting the creates it accepted, by Job name. */
class CountingClient extends InMemoryJobClient {
  readonly accepted = new Map<string, number>();

  override async createJob(namespace: string, job: Job, options?: CallOptions & { dryRun?: boolean }) {
    const created = await super.createJob(namespace, job, options);
    if (!options?.dryRun)
      this.accepted.set(job.metadata.name!, (this.accepted.get(job.metadata.name!) ?? 0) + 1);
    return created;
  }
}

/**
 * What a crash looks like from outside: from `crash()` on, the process makes no more calls and no
 * timer of its fires again. Its requests already answered stay answered.
 */
function crashable(clock: Clock, jobClient: JobClient) {
  let dead = false;
  const never = new Promise<never>(() => undefined);
  const frozenClock: Clock = {
    now: () => clock.now(),
    sleep: (ms, signal) => clock.sleep(ms, signal).then(() => (dead ? never : undefined)),
  };
  const frozenClient = new Proxy(jobClient, {
    get(target, method: keyof JobClient) {
      const real = target[method] as (...args: unknown[]) => Promise<unknown>;
      return (...args: unknown[]) =>
        dead ? never : real.apply(target, args).then((v) => (dead ? never : v));
    },
  });
  return {
    clock: frozenClock,
    jobClient: frozenClient,
    crash: () => {
      dead = true;
    },
  };
}

// 16 independent roots of 1–16 s and 8 blocks that each wait for two roots; 6 at a time.
const ROOTS = 16;
const blocksYaml = [
  ...Array.from({ length: ROOTS }, (_, i) => `  - uuid: r${i}\n    upstream_blocks: []\n`),
  ...Array.from({ length: 8 }, (_, i) => `  - uuid: d${i}\n    upstream_blocks: [r${i}, r${i + 8}]\n`),
].join('');
const jobOf = (uuid: string) => `mage-data-prep-block-3-${uuid}`;

describe('an executor stopped mid-run, and a new one started on the same run', () => {
  it('adopts every Job the first one left and finishes with zero duplicates', async () => {
    const clock = new FakeClock();
    const jobClient = new CountingClient({ clock });
    for (let i = 0; i < ROOTS; i++) jobClient.script(jobOf(`r${i}`), [{ runMs: (i + 1) * 1000 }]);
    const configSource = new StaticConfigSource(projectFiles(blocksYaml));

    // The first process: runs until 7.5 s, then dies.
    const first = crashable(clock, jobClient);
    const dying = new K8sPipelineExecutor({
      configSource,
      jobClient: first.jobClient,
      clock: first.clock,
      concurrency: 6,
      logDrainMs: 10,
    });
    void dying.run({ pipelineUuid: 'etl', pipelineRunId: 3 });
    await clock.advance(7500);
    first.crash();
    dying.close();

    const leftBehind = jobClient.jobs().map((j) => j.metadata.name!);
    const finished = jobClient
      .jobs()
      .filter((j) => j.status?.conditions?.some((c) => c.type === 'Complete'))
      .map((j) => j.metadata.name!);
    const running = leftBehind.filter((name) => !finished.includes(name));
    // The crash really left work in every state: finished, running, not started yet.
    expect(finished.length).toBeGreaterThan(0);
    expect(running.length).toBeGreaterThan(0);
    expect(leftBehind.length).toBeLessThan(ROOTS + 8);

    // The second process: same run, same cluster.
    const resumed = new K8sPipelineExecutor({
      configSource,
      jobClient,
      clock,
      concurrency: 6,
      logDrainMs: 10,
    });
    const result = await drive(clock, resumed.run({ pipelineUuid: 'etl', pipelineRunId: 3 }));
    resumed.close();

    expect(result.status).toBe('succeeded');
    const attempts = result.blocks.flatMap((b) => b.attempts);
    for (const name of finished) {
      expect(attempts, name).toContainEqual(expect.objectContaining({ jobName: name, fromEarlierRun: true }));
    }
    for (const name of running) {
      expect(attempts, name).toContainEqual(expect.objectContaining({ jobName: name, adopted: true }));
    }
    // Zero duplicates: every block's Job was accepted exactly once, across both processes.
    const expected = result.blocks.map((b) => jobOf(b.uuid)).sort();
    expect([...jobClient.accepted.keys()].sort()).toEqual(expected);
    expect([...jobClient.accepted.values()].every((n) => n === 1)).toBe(true);
    expect(jobClient.jobs()).toEqual([]);
  });
});
