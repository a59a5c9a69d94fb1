import { describe, expect, it } from 'vitest';
import { ApiError } from '../../src/errors/api-error.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { InMemoryJobClient } from '../../src/testing/in-memory-job-client.js';
import type { Job, Pod, WatchEvent } from '../../src/types/kube.js';
import { fixtureJob } from '../adapters/local/job-fixture.js';

const NS = 'ml';

function setup(scripts: ConstructorParameters<typeof InMemoryJobClient>[0] = {}) {
  const clock = new FakeClock();
  const client = new InMemoryJobClient({ clock, ...scripts });
  return { clock, client };
}

function conditionsOf(job: Job | undefined): string[] {
  return (job?.status?.conditions ?? []).map((c) => `${c.type}/${c.reason}`);
}

function podsOf(client: InMemoryJobClient, jobName: string): Pod[] {
  return client.pods(NS).filter((p) => p.metadata.labels?.['job-name'] === jobName);
}

const unavailable = () =>
  new ApiError('API_UNAVAILABLE', 'Service Unavailable.', {
    status: 503,
    operation: { verb: 'create', resource: 'jobs', group: 'batch', namespace: NS },
    transient: true,
  });

describe('InMemoryJobClient: Job lifecycle', () => {
  it('runs a pod to success: SuccessCriteriaMet then Complete, with the controller labels', async () => {
    // GIVEN a Job whose pod runs 2 s
    const { clock, client } = setup({ scripts: { ok: [{ runMs: 2_000 }] } });
    const created = await client.createJob(NS, fixtureJob('ok'));
    expect(created.status).toEqual({});
    await clock.advance(0);
    const [pod] = podsOf(client, 'ok');
    expect(pod?.status?.phase).toBe('Running');
    expect(client.jobs(NS)[0]?.status).toMatchObject({ active: 1, ready: 1 });
    // WHEN the run time passes
    await clock.advance(2_000);
    // THEN the Job is complete and the pod succeeded
    const job = await client.getJob(NS, 'ok');
    expect(conditionsOf(job)).toEqual([
      'SuccessCriteriaMet/CompletionsReached',
      'Complete/CompletionsReached',
    ]);
    expect(job?.status).toMatchObject({ succeeded: 1, ready: 0, completionTime: '2023-11-14T22:13:22Z' });
    expect(job?.status?.active).toBeUndefined();
    const done = podsOf(client, 'ok')[0]!;
    expect(done.metadata.name).toMatch(/^ok-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    expect(done.metadata.labels).toMatchObject({
      'job-name': 'ok',
      'batch.kubernetes.io/job-name': 'ok',
      'controller-uid': created.metadata.uid,
      'batch.kubernetes.io/controller-uid': created.metadata.uid,
      'app.kubernetes.io/managed-by': 'k8s-executor',
    });
    expect(done.metadata.ownerReferences?.[0]).toMatchObject({
      kind: 'Job',
      name: 'ok',
      uid: created.metadata.uid,
    });
    expect(done.status?.phase).toBe('Succeeded');
    expect(done.status?.containerStatuses?.[0]?.state?.terminated).toMatchObject({
      exitCode: 0,
      reason: 'Completed',
    });
  });

  it('fails with BackoffLimitExceeded after one exit 3 when backoffLimit is 0', async () => {
    const { clock, client } = setup({ scripts: { bad: [{ runMs: 100, exitCode: 3 }] } });
    await client.createJob(NS, fixtureJob('bad', { backoffLimit: 0 }));
    await clock.advance(100);
    const job = await client.getJob(NS, 'bad');
    expect(conditionsOf(job)).toEqual(['FailureTarget/BackoffLimitExceeded', 'Failed/BackoffLimitExceeded']);
    expect(job?.status?.conditions?.[1]?.message).toBe('Job has reached the specified backoff limit');
    expect(job?.status).toMatchObject({ failed: 1 });
    const pods = podsOf(client, 'bad');
    expect(pods).toHaveLength(1);
    expect(pods[0]?.status?.phase).toBe('Failed');
    expect(pods[0]?.status?.containerStatuses?.[0]?.state?.terminated).toMatchObject({
      exitCode: 3,
      reason: 'Error',
    });
    const events = await client.listWarningEvents(NS, { kind: 'Job', name: 'bad' });
    expect(events.map((e) => e.reason)).toEqual(['BackoffLimitExceeded']);
  });

  it('retries up to backoffLimit: fail, fail, succeed gives 3 pods and Complete', async () => {
    const { clock, client } = setup({
      scripts: { flaky: [{ exitCode: 1 }, { exitCode: 1 }, { runMs: 10 }] },
    });
    await client.createJob(NS, fixtureJob('flaky', { backoffLimit: 2 }));
    await clock.advance(10);
    const job = await client.getJob(NS, 'flaky');
    expect(conditionsOf(job)).toEqual([
      'SuccessCriteriaMet/CompletionsReached',
      'Complete/CompletionsReached',
    ]);
    expect(job?.status).toMatchObject({ failed: 2, succeeded: 1 });
    const phases = podsOf(client, 'flaky')
      .sort((a, b) => Number(a.metadata.resourceVersion) - Number(b.metadata.resourceVersion))
      .map((p) => p.status?.phase);
    expect(phases).toEqual(['Failed', 'Failed', 'Succeeded']);
  });

  it('fails with DeadlineExceeded when a hanging pod outlives activeDeadlineSeconds, and deletes the pod', async () => {
    const { clock, client } = setup({ scripts: { slow: [{ hang: true }] } });
    await client.createJob(NS, fixtureJob('slow', { activeDeadlineSeconds: 30, backoffLimit: 3 }));
    await clock.advance(29_999);
    expect(conditionsOf(await client.getJob(NS, 'slow'))).toEqual([]);
    await clock.advance(1);
    const job = await client.getJob(NS, 'slow');
    expect(conditionsOf(job)).toEqual(['FailureTarget/DeadlineExceeded', 'Failed/DeadlineExceeded']);
    expect(job?.status?.conditions?.[1]?.message).toBe('Job was active longer than specified deadline');
    expect(job?.status).toMatchObject({ failed: 1, terminating: 0 });
    expect(podsOf(client, 'slow')).toEqual([]);
  });
});

describe('InMemoryJobClient: pod failure modes', () => {
  it('shows image pull trouble as a waiting container with warning events; its log is not readable', async () => {
    const message = 'Back-off pulling image "nope:1"';
    const { clock, client } = setup({
      scripts: { img: [{ waiting: { reason: 'ImagePullBackOff', message } }] },
    });
    await client.createJob(NS, fixtureJob('img'));
    await clock.advance(60_000);
    const pod = podsOf(client, 'img')[0]!;
    expect(pod.status?.phase).toBe('Pending');
    expect(pod.status?.containerStatuses?.[0]?.state?.waiting).toEqual({
      reason: 'ImagePullBackOff',
      message,
    });
    const events = await client.listWarningEvents(NS, { kind: 'Pod', name: pod.metadata.name! });
    expect(events.map((e) => [e.reason, e.message])).toEqual([['BackOff', message]]);
    await expect(client.readPodLog(NS, pod.metadata.name!)).rejects.toMatchObject({
      code: 'API_INVALID',
      status: 400,
      message: expect.stringContaining('is waiting to start: ImagePullBackOff'),
    });
  });

  it('reports unschedulable pods with PodScheduled=False, then runs them once scheduled', async () => {
    const { clock, client } = setup({
      scripts: {
        big: [{ unschedulable: { message: '0/3 nodes are available: 3 Insufficient cpu.', forMs: 5_000 } }],
      },
    });
    await client.createJob(NS, fixtureJob('big'));
    await clock.advance(0);
    const scheduled = podsOf(client, 'big')[0]?.status?.conditions?.find((c) => c.type === 'PodScheduled');
    expect(scheduled).toMatchObject({ status: 'False', reason: 'Unschedulable' });
    await clock.advance(5_000);
    expect(conditionsOf(await client.getJob(NS, 'big'))).toContain('Complete/CompletionsReached');
  });

  it('ends OOMKilled pods with exit code 137', async () => {
    const { clock, client } = setup({ scripts: { oom: [{ runMs: 50, oomKilled: true }] } });
    await client.createJob(NS, fixtureJob('oom'));
    await clock.advance(50);
    const terminated = podsOf(client, 'oom')[0]?.status?.containerStatuses?.[0]?.state?.terminated;
    expect(terminated).toMatchObject({ exitCode: 137, reason: 'OOMKilled' });
    expect(conditionsOf(await client.getJob(NS, 'oom'))).toContain('Failed/BackoffLimitExceeded');
  });

  it('fails evicted pods with pod reason Evicted', async () => {
    const message = 'The node was low on resource: memory.';
    const { clock, client } = setup({ scripts: { ev: [{ runMs: 50, evicted: { message } }] } });
    await client.createJob(NS, fixtureJob('ev'));
    await clock.advance(50);
    const pod = podsOf(client, 'ev')[0]!;
    expect(pod.status).toMatchObject({ phase: 'Failed', reason: 'Evicted', message });
  });
});

describe('InMemoryJobClient: watches', () => {
  it('delivers exactly the events after the resourceVersion it resumes from', async () => {
    const { clock, client } = setup({ scripts: { w: [{ runMs: 10 }] } });
    const listed = await client.listJobs(NS, 'app.kubernetes.io/managed-by=k8s-executor');
    const all: WatchEvent<Job>[] = [];
    const full = client.watchJobs(NS, (e) => all.push(e), { resourceVersion: listed.resourceVersion });
    await client.createJob(NS, fixtureJob('w'));
    await clock.advance(10);
    client.dropWatches();
    await full;
    expect(all.map((e) => e.type)).toEqual(['ADDED', 'MODIFIED', 'MODIFIED', 'MODIFIED', 'MODIFIED']);
    // resuming from the second event's version gives the later ones, in order, nothing else
    const later: WatchEvent<Job>[] = [];
    const resumed = client.watchJobs(NS, (e) => later.push(e), {
      resourceVersion: all[1]!.object.metadata.resourceVersion!,
    });
    await clock.advance(0);
    client.dropWatches();
    await resumed;
    expect(later).toEqual(all.slice(2));
  });

  it('refuses a watch from a version older than the kept history with API_GONE', async () => {
    const { clock, client } = setup();
    const { resourceVersion } = await client.listPods(NS, '');
    await client.createJob(NS, fixtureJob('g'));
    await clock.advance(0);
    client.expireWatchHistory();
    await expect(client.watchPods(NS, () => {}, { resourceVersion })).rejects.toMatchObject({
      code: 'API_GONE',
      status: 410,
    });
    // a relist gives a version that is fine again
    const relisted = await client.listPods(NS, '');
    const watch = client.watchPods(NS, () => {}, { resourceVersion: relisted.resourceVersion });
    client.dropWatches();
    await expect(watch).resolves.toBeUndefined();
  });

  it('emits DELETED for the Job and its pods when someone else deletes the Job', async () => {
    const { clock, client } = setup({ scripts: { gone: [{ hang: true }] } });
    await client.createJob(NS, fixtureJob('gone'));
    await clock.advance(0);
    const jobEvents: string[] = [];
    const podEvents: string[] = [];
    const { resourceVersion } = await client.listJobs(NS, '');
    const jobs = client.watchJobs(NS, (e) => jobEvents.push(e.type), { resourceVersion });
    const pods = client.watchPods(NS, (e) => podEvents.push(e.type), { resourceVersion });
    client.deleteFromOutside(NS, 'gone');
    await clock.advance(0);
    client.dropWatches();
    await Promise.all([jobs, pods]);
    expect(jobEvents).toEqual(['DELETED']);
    expect(podEvents).toEqual(['MODIFIED', 'MODIFIED', 'DELETED']); // deletionTimestamp, terminated, gone
    expect(client.jobs()).toEqual([]);
    expect(client.pods()).toEqual([]);
  });

  it('rejects a watch with the abort reason when its signal aborts', async () => {
    const { client } = setup();
    const controller = new AbortController();
    const watch = client.watchJobs(NS, () => {}, { signal: controller.signal });
    controller.abort(new Error('stop'));
    await expect(watch).rejects.toThrow('stop');
  });
});

describe('InMemoryJobClient: logs, deletion, API double', () => {
  it('keeps logs readable (with tailLines) and followable until the container ends', async () => {
    const { clock, client } = setup({ scripts: { log: [{ runMs: 300, logs: ['one', 'two', 'three'] }] } });
    await client.createJob(NS, fixtureJob('log'));
    await clock.advance(100);
    const podName = podsOf(client, 'log')[0]!.metadata.name!;
    const seen: string[] = [];
    const following = client.followPodLog(NS, podName, (line) => seen.push(line));
    await clock.advance(0);
    expect(seen).toEqual(['one', 'two']);
    await clock.advance(200);
    await following;
    expect(seen).toEqual(['one', 'two', 'three']);
    expect(await client.readPodLog(NS, podName)).toBe('one\ntwo\nthree\n');
    expect(await client.readPodLog(NS, podName, { tailLines: 1 })).toBe('three\n');
  });

  it('deletes in the foreground: the Job stays with a deletionTimestamp until its pods are gone', async () => {
    const { clock, client } = setup({ scripts: { fg: [{ hang: true }] } });
    await client.createJob(NS, fixtureJob('fg'));
    await clock.advance(0);
    const types: string[] = [];
    const { resourceVersion } = await client.listJobs(NS, '');
    const watch = client.watchJobs(
      NS,
      (e) => types.push(`${e.type}:${e.object.metadata.deletionTimestamp ? 'deleting' : ''}`),
      {
        resourceVersion,
      },
    );
    expect(await client.deleteJob(NS, 'fg')).toBe(true);
    await clock.advance(0);
    client.dropWatches();
    await watch;
    expect(types[0]).toBe('MODIFIED:deleting');
    expect(types.at(-1)).toBe('DELETED:deleting');
    expect(await client.deleteJob(NS, 'fg')).toBe(false);
  });

  it('refuses duplicates and invalid Jobs, and only validates on dryRun', async () => {
    const { client } = setup();
    const dry = await client.createJob(NS, fixtureJob('dry'), { dryRun: true });
    expect(dry.metadata.uid).toBeDefined();
    expect(client.jobs()).toEqual([]);
    await client.createJob(NS, fixtureJob('dup'));
    await expect(client.createJob(NS, fixtureJob('dup'))).rejects.toMatchObject({
      code: 'API_CONFLICT',
      status: 409,
    });
    await expect(client.createJob(NS, fixtureJob('noimg', {}, { image: undefined }))).rejects.toMatchObject({
      code: 'API_INVALID',
      message: expect.stringContaining('spec.template.spec.containers[0].image: Required value'),
    });
  });

  it('injects errors with failNext (count) and failWhen', async () => {
    const { client } = setup();
    client.failNext('createJob', unavailable(), 2);
    await expect(client.createJob(NS, fixtureJob('f'))).rejects.toMatchObject({ code: 'API_UNAVAILABLE' });
    await expect(client.createJob(NS, fixtureJob('f'))).rejects.toMatchObject({ code: 'API_UNAVAILABLE' });
    await expect(client.createJob(NS, fixtureJob('f'))).resolves.toMatchObject({ metadata: { name: 'f' } });
    client.failWhen((call) => (call.method === 'getJob' && call.name === 'f' ? unavailable() : undefined));
    await expect(client.getJob(NS, 'f')).rejects.toMatchObject({ code: 'API_UNAVAILABLE' });
    await expect(client.getJob(NS, 'other')).resolves.toBeUndefined();
    expect(client.createdJobs.map((j) => j.metadata.name)).toEqual(['f', 'f', 'f']);
  });

  it('records every call in order, with the clock time', async () => {
    const { clock, client } = setup();
    await client.listJobs(NS, 'a=b');
    await clock.advance(1_000);
    await client.getJob(NS, 'x');
    expect(client.calls).toEqual([
      { method: 'listJobs', namespace: NS, labelSelector: 'a=b', at: 1_700_000_000_000 },
      { method: 'getJob', namespace: NS, name: 'x', at: 1_700_000_001_000 },
    ]);
  });

  it('returns copies: changing a returned Job changes nothing stored', async () => {
    const { client } = setup();
    const created = await client.createJob(NS, fixtureJob('copy'));
    created.metadata.labels!['tampered'] = 'yes';
    const listed = await client.listJobs(NS, 'tampered=yes');
    expect(listed.items).toEqual([]);
    expect((await client.listJobs(NS, 'k8s-executor/block-run-id=42,tampered!=yes')).items).toHaveLength(1);
  });
});
