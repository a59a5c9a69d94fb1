/**
 * A production day, compressed: two hours of simulated time (FakeClock) on the in-memory API server,
 * with everything a managed cluster does to a long run at once, replayable from one seed:
 *
 * - 1 % of the lists (the shared watches' relists and polls) answered once with 401 or 403;
 * - every watch dropped every 30 s after the history was compacted, so each resume gets 410 Gone;
 * - every log stream cut every 60 s, cleanly or abruptly in turn;
 * - a container quiet for 10 minutes; a Job retried by its backoffLimit;
 * - one Kueue preemption (the Job suspended mid-run, admitted again 15 minutes later);
 * - a cancel that races the create (a slow admission webhook), and one that races a create over a
 *   foreign Job of the same name; a foreign Job running in the namespace all day.
 *
 * Checked: every block's true final state, no duplicate Job, no log line lost or doubled, no foreign
 * Job touched.
 */
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../src/errors/api-error.js';
import { K8sBlockExecutor } from '../../src/executor/block-executor.js';
import type { BlockResult } from '../../src/executor/types.js';
import type { CallOptions, DeleteOptions } from '../../src/ports/job-client.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { InMemoryJobClient } from '../../src/testing/in-memory-job-client.js';
import type { PodScript } from '../../src/testing/pod-script.js';
import { StaticConfigSource } from '../../src/testing/static-config-source.js';
import type { Job } from '../../src/types/kube.js';
import { projectFiles } from '../helpers/project.js';
import { seededRandom } from '../support/fake-apiserver/seeded-random.js';

const S = 1000;
const MIN = 60 * S;
const DAY_MS = 2 * 60 * MIN;
const SEED = 20_261_201;

/** The in-memory API server, with a slow admission for some Jobs, recording creates and deletes. */
class ProductionCluster extends InMemoryJobClient {
  /** uids of the Jobs the server stored, by name. */
  readonly stored = new Map<string, string[]>();
  readonly deletes: { name: string; options: DeleteOptions | undefined }[] = [];

  constructor(
    private readonly fakeClock: FakeClock,
    /** Admission latency (a mutating webhook) by Job name; an abort only stops the client's wait. */
    private readonly admissionMs: ReadonlyMap<string, number>,
  ) {
    super({ clock: fakeClock, seed: SEED });
  }

  override createJob(
    namespace: string,
    job: Job,
    options?: CallOptions & { dryRun?: boolean },
  ): Promise<Job> {
    const name = job.metadata.name!;
    const server = this.fakeClock.sleep(this.admissionMs.get(name) ?? 0).then(async () => {
      const created = await super.createJob(namespace, job, {});
      this.stored.set(name, [...(this.stored.get(name) ?? []), created.metadata.uid!]);
      return created;
    });
    return new Promise<Job>((resolve, reject) => {
      options?.signal?.addEventListener('abort', () => reject(options.signal?.reason), { once: true });
      server.then(resolve, reject);
    });
  }

  override deleteJob(namespace: string, name: string, options?: DeleteOptions): Promise<boolean> {
    this.deletes.push({ name, options });
    return super.deleteJob(namespace, name, options);
  }
}

interface Block {
  id: string;
  startAt: number;
  pods: PodScript[];
  backoffLimit?: number;
  /** Cancel this long after the start. */
  cancelAfterMs?: number;
  expected: Partial<BlockResult>;
}

const jobOf = (id: string) => `mage-data-prep-block-${id}`;
const linesOf = (id: string, pod: number, n: number) =>
  Array.from({ length: n }, (_, i) => `${id} pod ${pod} line ${i + 1}`);

/** The day's blocks: a seeded mix of lengths, log volumes and outcomes, plus the special cases. */
function blocks(random: () => number): Block[] {
  const day: Block[] = Array.from({ length: 24 }, (_, i) => {
    const id = `b${i}`;
    const fails = random() < 0.25;
    const runMs = Math.round((1 + random() * 24) * MIN);
    const lines = 10 + Math.floor(random() * 290);
    return {
      id,
      startAt: Math.floor(random() * 80) * MIN + Math.floor(random() * 60) * S,
      pods: [
        {
          pendingMs: Math.floor(random() * 5) * S,
          runMs,
          logs: linesOf(id, 1, lines),
          exitCode: fails ? 3 : 0,
        },
      ],
      expected: fails ? { status: 'failed', reason: 'EXIT_CODE', exitCode: 3 } : { status: 'succeeded' },
    };
  });
  day.push(
    {
      id: 'quiet',
      startAt: 5 * MIN,
      pods: [{ runMs: 20 * MIN, logs: ['quiet before', 'quiet after ten minutes'] }],
      expected: { status: 'succeeded' },
    },
    {
      id: 'retry',
      startAt: 7 * MIN,
      backoffLimit: 1,
      pods: [
        { runMs: 3 * MIN, logs: linesOf('retry', 1, 40), exitCode: 1 },
        { runMs: 4 * MIN, logs: linesOf('retry', 2, 40) },
      ],
      expected: { status: 'succeeded', failedPods: 1 },
    },
    {
      id: 'preempted',
      startAt: 10 * MIN,
      // Preempted 10 min into its 30 min; the replacement pod runs the script again.
      pods: [{ runMs: 30 * MIN, logs: linesOf('preempted', 1, 180) }],
      expected: { status: 'succeeded', failedPods: 0 },
    },
    {
      id: 'cancel-race',
      startAt: 30 * MIN,
      cancelAfterMs: 100,
      pods: [{ hang: true }],
      expected: { status: 'cancelled', reason: 'CANCELLED' },
    },
    {
      id: 'collide',
      startAt: 31 * MIN,
      cancelAfterMs: 100,
      pods: [{ hang: true }],
      expected: { status: 'cancelled', reason: 'CANCELLED' },
    },
  );
  return day;
}

function project(day: readonly Block[]): Record<string, string> {
  const yaml = day
    .map((b) => {
      const retries =
        b.backoffLimit !== undefined
          ? `    executor_config:\n      job:\n        backoff_limit: ${b.backoffLimit}\n`
          : '';
      return `  - uuid: ${b.id}\n    executor_type: k8s\n${retries}`;
    })
    .join('');
  return projectFiles(yaml);
}

const foreign = (name: string, team: string): Job => ({
  metadata: { name, labels: { team } },
  spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: `${team}:1` }] } } },
});

async function productionDay() {
  const random = seededRandom(SEED);
  const clock = new FakeClock();
  const day = blocks(random);
  const jobClient = new ProductionCluster(
    clock,
    new Map([
      [jobOf('cancel-race'), 500],
      [jobOf('collide'), 300],
    ]),
  );
  for (const b of day) jobClient.script(jobOf(b.id), b.pods);
  // A foreign Job running all day, and one that holds the name of block "collide".
  jobClient.script('payments-nightly', [{ hang: true }]);
  jobClient.script(jobOf('collide'), [{ hang: true }]);
  await InMemoryJobClient.prototype.createJob.call(
    jobClient,
    'default',
    foreign('payments-nightly', 'payments'),
  );
  await InMemoryJobClient.prototype.createJob.call(
    jobClient,
    'default',
    foreign(jobOf('collide'), 'billing'),
  );
  const foreignUids = jobClient.jobs().map((j) => j.metadata.uid);

  // 1 % of the lists: one 401 or 403 (from the first minute on: a namespace refused from its very first
  // list is a missing Role, which fails fast by design).
  let refusedLists = 0;
  const faultsFrom = clock.now() + MIN;
  jobClient.failWhen((call) => {
    if (call.method !== 'listJobs' && call.method !== 'listPods') return undefined;
    if (call.at < faultsFrom) return undefined;
    if (random() >= 0.01) return undefined;
    refusedLists++;
    const status = random() < 0.5 ? 401 : 403;
    return new ApiError(status === 401 ? 'API_UNAUTHORIZED' : 'API_FORBIDDEN', `${status} once`, {
      status,
      operation: {
        verb: 'list',
        resource: call.method === 'listJobs' ? 'jobs' : 'pods',
        group: '',
        namespace: 'default',
      },
    });
  });

  const executor = new K8sBlockExecutor({
    configSource: new StaticConfigSource(project(day)),
    jobClient,
    clock,
    logDrainMs: 2000,
  });
  const results = new Map<string, BlockResult | Error>();
  const streamed = new Map<string, string[]>();
  const runs: Promise<void>[] = [];
  const pending = [...day].sort((a, b) => a.startAt - b.startAt);
  let preemption: { suspendedAt?: number; startedAt?: number } = {};
  let cuts = 0;

  for (let t = 0; t <= DAY_MS + 30 * MIN && results.size < day.length; t += S) {
    while (pending.length > 0 && pending[0]!.startAt <= t) {
      const b = pending.shift()!;
      const cancel = new AbortController();
      if (b.cancelAfterMs !== undefined)
        void clock.sleep(b.cancelAfterMs).then(() => cancel.abort(new Error('user pressed Ctrl-C')));
      runs.push(
        executor
          .execute(
            { pipelineUuid: 'etl', blockUuid: b.id, pipelineRunId: 1, blockRunId: b.id },
            {
              signal: cancel.signal,
              onLog: (l) => {
                const key = `${b.id}/${l.podName}`;
                streamed.set(key, [...(streamed.get(key) ?? []), l.line]);
              },
              onEvent: (e) => {
                if (b.id === 'preempted' && e.type === 'running') preemption.startedAt ??= e.at;
              },
            },
          )
          .then(
            (r) => void results.set(b.id, r),
            (e: unknown) => void results.set(b.id, e as Error),
          ),
      );
    }
    if (t > 0 && t % (30 * S) === 0) {
      // A busy cluster: writes elsewhere (another namespace) then a compaction, so every resume is too old.
      await InMemoryJobClient.prototype.createJob.call(
        jobClient,
        'noise',
        foreign(`noise-${t / S}`, 'noise'),
      );
      jobClient.expireWatchHistory();
      jobClient.dropWatches();
    }
    if (t > 0 && t % MIN === 0) {
      cuts++;
      jobClient.cutLogStreams(cuts % 2 === 0 ? (new Error('read ECONNRESET') as ApiError) : undefined);
    }
    if (preemption.startedAt !== undefined && preemption.suspendedAt === undefined) {
      if (clock.now() >= preemption.startedAt + 10 * MIN + 500) {
        jobClient.suspendJob('default', jobOf('preempted'));
        preemption = { ...preemption, suspendedAt: clock.now() };
      }
    } else if (preemption.suspendedAt !== undefined && clock.now() === preemption.suspendedAt + 15 * MIN) {
      jobClient.resumeJob('default', jobOf('preempted'));
    }
    await clock.advance(S);
  }
  await Promise.all(runs);
  executor.close();
  const lists = jobClient.calls.filter((c) => c.method === 'listJobs' || c.method === 'listPods').length;
  return { day, results, streamed, jobClient, foreignUids, refusedLists, lists, preemption };
}

describe('a production day (2 h simulated, seeded)', () => {
  it('ends every block in its true state, with no duplicate Job, no log line lost or doubled, no foreign Job touched', async () => {
    const { day, results, streamed, jobClient, foreignUids, refusedLists, lists, preemption } =
      await productionDay();

    // The faults really happened: a relist after (nearly) every 30 s drop, some of them refused once.
    expect(lists).toBeGreaterThan(300);
    expect(refusedLists).toBeGreaterThan(0);
    expect(preemption.suspendedAt).toBeDefined();

    // Every block's true final state.
    for (const b of day) {
      const result = results.get(b.id);
      expect(result, b.id).not.toBeInstanceOf(Error);
      expect(result, b.id).toMatchObject(b.expected);
    }

    // No duplicate Job: each block's Job was stored once (the cancelled race's Job too; "collide" never).
    for (const b of day) {
      const stored = jobClient.stored.get(jobOf(b.id)) ?? [];
      expect(stored, b.id).toHaveLength(b.id === 'collide' ? 0 : 1);
    }

    // No log line lost or doubled: each pod's lines, in order, exactly once.
    for (const b of day.filter((d) => d.cancelAfterMs === undefined)) {
      const pods = [...streamed.keys()].filter((k) => k.startsWith(`${b.id}/`)).map((k) => streamed.get(k)!);
      if (b.id === 'preempted') {
        expect(pods, b.id).toHaveLength(2);
        const [stopped, replacement] = pods as [string[], string[]];
        const logs = b.pods[0]!.logs!;
        // Everything the preempted pod wrote before it was stopped (one line every 10 s), then all of the new one.
        const writtenBeforeStop =
          Math.floor((preemption.suspendedAt! - preemption.startedAt!) / (10 * S)) + 1;
        expect(stopped, b.id).toEqual(logs.slice(0, stopped.length));
        expect(stopped.length, b.id).toBeGreaterThanOrEqual(writtenBeforeStop);
        expect(replacement, b.id).toEqual(logs);
        continue;
      }
      expect(pods, b.id).toEqual(b.pods.map((p) => p.logs));
    }
    for (const b of day.filter((d) => d.expected.status === 'failed')) {
      expect((results.get(b.id) as BlockResult).lastLogLines, b.id).toEqual(b.pods[0]!.logs!.slice(-50));
    }

    // The cancel race deleted exactly the Job it created, by uid; no foreign Job was touched.
    const raced = jobClient.stored.get(jobOf('cancel-race'))!;
    expect(jobClient.deletes.filter((d) => d.name === jobOf('cancel-race'))).toEqual([
      { name: jobOf('cancel-race'), options: { propagationPolicy: 'Foreground', uid: raced[0] } },
    ]);
    expect(jobClient.deletes.every((d) => d.options?.uid !== undefined)).toBe(true);
    expect(jobClient.deletes.map((d) => d.options?.uid)).not.toEqual(expect.arrayContaining(foreignUids));
    const left = jobClient.jobs('default');
    expect(left.map((j) => j.metadata.uid)).toEqual(foreignUids);
    expect(left.every((j) => j.metadata.deletionTimestamp === undefined)).toBe(true);
  });
});
