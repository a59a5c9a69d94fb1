/**
 * One bad answer from the API server never fails running work: a single 401 or 403 answered to one
 * relist of the shared watch (a token at its expiry edge, an authenticator hiccup, a RoleBinding
 * re-applied by GitOps) is retried with the hub's backoff, as client-go's reflector does. Only a
 * namespace that stays unlistable for the documented bound fails its blocks, and their Jobs are left
 * running: deleting them is the user's choice.
 */
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../src/errors/api-error.js';
import { K8sBlockExecutor } from '../../src/executor/block-executor.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { InMemoryJobClient } from '../../src/testing/in-memory-job-client.js';
import { StaticConfigSource } from '../../src/testing/static-config-source.js';
import { projectFiles } from '../helpers/project.js';

const HOUR = 3_600_000;
const MIN = 60_000;

function twoLongBlocks() {
  const clock = new FakeClock();
  const jobClient = new InMemoryJobClient({ clock });
  const blocks = projectFiles('  - uuid: a\n    executor_type: k8s\n  - uuid: b\n    executor_type: k8s\n');
  for (const id of ['1', '2']) jobClient.script(`mage-data-prep-block-${id}`, [{ runMs: 2 * HOUR }]);
  const executor = new K8sBlockExecutor({ configSource: new StaticConfigSource(blocks), jobClient, clock });
  const runs = ['1', '2'].map((id, i) =>
    executor
      .execute({ pipelineUuid: 'etl', blockUuid: i === 0 ? 'a' : 'b', pipelineRunId: 7, blockRunId: id })
      .then(
        (r) => ({ ok: r.status, reason: r.reason }),
        (e: unknown) => ({ rejected: (e as ApiError).code, message: (e as Error).message }),
      ),
  );
  return { clock, jobClient, executor, runs };
}

const ours = (client: InMemoryJobClient) => client.jobs().filter((j) => j.metadata.name !== 'someone-else');

/**
 * An unrelated write (not ours, not seen by our label-selected watch) then compaction: both of our
 * watches' resourceVersions are now too old, as after any etcd compaction on a busy cluster. The
 * watches are dropped, so they resume, get 410 Gone and relist.
 */
async function writeElsewhereThenCompact(jobClient: InMemoryJobClient): Promise<void> {
  jobClient.script('someone-else', [{ hang: true }]);
  await jobClient.createJob('default', {
    metadata: { name: 'someone-else' },
    spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'x' }] } } },
  });
  jobClient.expireWatchHistory();
  jobClient.dropWatches();
}

async function advance(clock: FakeClock, ms: number, stepMs = 1000): Promise<void> {
  for (let t = 0; t < ms; t += stepMs) await clock.advance(stepMs);
}

describe.each([
  [401, 'API_UNAUTHORIZED'],
  [403, 'API_FORBIDDEN'],
] as const)('a single %i on a relist', (status, code) => {
  it('does not kill long-running blocks nor delete their Jobs', async () => {
    const { clock, jobClient, executor, runs } = twoLongBlocks();
    // 30 min in, the server's watch history is compacted (routine) and the watch is dropped: relist.
    await advance(clock, 30 * MIN);
    expect(jobClient.jobs()).toHaveLength(2);
    const op = { verb: 'list', resource: 'pods', group: '', namespace: 'default' };
    // Exactly ONE request fails: the pods relist.
    jobClient.failNext('listPods', new ApiError(code, `${status} once`, { status, operation: op }), 1);
    await writeElsewhereThenCompact(jobClient);
    await advance(clock, 2 * MIN);
    expect(ours(jobClient)).toHaveLength(2);
    await advance(clock, 2 * HOUR, 5000);
    const outcomes = await Promise.all(runs);
    executor.close();
    expect(outcomes).toEqual([
      { ok: 'succeeded', reason: undefined },
      { ok: 'succeeded', reason: undefined },
    ]);
  });
});

describe('a namespace that stays unlistable', () => {
  it('fails its blocks after 5 min of refused lists, and leaves their Jobs running', async () => {
    const { clock, jobClient, executor, runs } = twoLongBlocks();
    await advance(clock, 10 * MIN);
    // The RoleBinding is gone for good: every list of pods is refused from now on.
    const op = { verb: 'list', resource: 'pods', group: '', namespace: 'default' };
    jobClient.failWhen((call) =>
      call.method === 'listPods'
        ? new ApiError('API_FORBIDDEN', 'pods is forbidden: cannot "list" "pods"', {
            status: 403,
            operation: op,
          })
        : undefined,
    );
    await writeElsewhereThenCompact(jobClient);
    await advance(clock, 4 * MIN);
    expect(ours(jobClient)).toHaveLength(2);
    await advance(clock, 2 * MIN);
    const outcomes = await Promise.all(runs);
    executor.close();
    for (const outcome of outcomes) {
      expect(outcome).toMatchObject({ rejected: 'API_FORBIDDEN' });
      expect((outcome as { message: string }).message).toMatch(
        /refused for 300 s, so the blocks there cannot be followed\. Job "mage-data-prep-block-\d" in namespace "default" was left running/,
      );
    }
    expect(ours(jobClient).map((j) => j.metadata.name)).toEqual([
      'mage-data-prep-block-1',
      'mage-data-prep-block-2',
    ]);
    expect(jobClient.calls.filter((c) => c.method === 'deleteJob')).toEqual([]);
  });
});
