/**
 * What the simulated API server of `InMemoryJobClient` (and of the local backend and the fake API
 * server) does for the faults of a production day: bookmarks, log timestamps and resumes, cut log
 * streams, deletes with a uid precondition, Foreground deletion that takes time, suspended Jobs.
 */
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { InMemoryJobClient } from '../../src/testing/in-memory-job-client.js';
import type { Job, WatchEvent } from '../../src/types/kube.js';
import { fixtureJob } from '../adapters/local/job-fixture.js';

const NS = 'ml';
const S = 1000;

function setup(options: ConstructorParameters<typeof InMemoryJobClient>[0] = {}) {
  const clock = new FakeClock();
  const client = new InMemoryJobClient({ clock, ...options });
  return { clock, client };
}

describe('InMemoryJobClient: bookmarks', () => {
  it('sends a BOOKMARK with the newest resourceVersion every minute to a watch that asked for one', async () => {
    const { clock, client } = setup();
    const events: WatchEvent<Job>[] = [];
    const stop = new AbortController();
    const asked = client.watchJobs(NS, (e) => events.push(e), { signal: stop.signal });
    const plain: WatchEvent<Job>[] = [];
    const notAsked = client.watchJobs(NS, (e) => plain.push(e), {
      allowBookmarks: false,
      signal: stop.signal,
    });
    await clock.advance(59 * S);
    expect(events).toEqual([]);
    await client.createJob('other', fixtureJob('elsewhere'));
    await clock.advance(S);
    // The newest version of anything (etcd's one sequence), though nothing of this namespace changed.
    const newest = Math.max(
      ...[...client.jobs(), ...client.pods()].map((o) => Number(o.metadata.resourceVersion)),
    );
    expect(events).toEqual([
      {
        type: 'BOOKMARK',
        object: { kind: 'Job', apiVersion: 'batch/v1', metadata: { resourceVersion: String(newest) } },
      },
    ]);
    await clock.advance(60 * S);
    expect(events.map((e) => e.type)).toEqual(['BOOKMARK', 'BOOKMARK']);
    expect(plain).toEqual([]);
    stop.abort(new Error('done'));
    await Promise.allSettled([asked, notAsked]);
  });
});

const podOf = (client: InMemoryJobClient, jobName: string) =>
  client.pods(NS).find((p) => p.metadata.labels?.['job-name'] === jobName)!.metadata.name!;

describe('InMemoryJobClient: log timestamps, sinceTime, cut streams', () => {
  it('stamps lines with strictly increasing RFC 3339 nano times, the clock millisecond first', async () => {
    const { clock, client } = setup({ scripts: { ts: [{ runMs: 2 * S, logs: ['a', 'b'] }] } });
    await client.createJob(NS, fixtureJob('ts'));
    await clock.advance(0);
    const pod = podOf(client, 'ts');
    const start = new Date(clock.now()).toISOString().slice(0, 23);
    expect(await client.readPodLog(NS, pod, { timestamps: true })).toBe(`${start}000000Z a\n`);
    await clock.advance(S);
    const later = new Date(clock.now()).toISOString().slice(0, 23);
    expect(await client.readPodLog(NS, pod, { timestamps: true })).toBe(
      `${start}000000Z a\n${later}000000Z b\n`,
    );
    expect(await client.readPodLog(NS, pod)).toBe('a\nb\n');
  });

  it('gives lines written in the same millisecond distinct times, 1 ns apart', async () => {
    const { clock, client } = setup({ scripts: { burst: [{ runMs: 0, logs: ['x', 'y', 'z'] }] } });
    await client.createJob(NS, fixtureJob('burst'));
    await clock.advance(0);
    const text = await client.readPodLog(NS, podOf(client, 'burst'), { timestamps: true });
    expect(text.split('\n').map((l) => l.slice(20, 30))).toEqual([
      '000000000Z',
      '000000001Z',
      '000000002Z',
      '',
    ]);
  });

  it("with logTimestamps 'clock', lines written together share their time", async () => {
    const { clock, client } = setup({
      logTimestamps: 'clock',
      scripts: { burst: [{ runMs: 0, logs: ['x', 'y'] }] },
    });
    await client.createJob(NS, fixtureJob('burst'));
    await clock.advance(0);
    const [x, y] = (await client.readPodLog(NS, podOf(client, 'burst'), { timestamps: true })).split('\n');
    expect(x?.slice(0, 30)).toBe(y?.slice(0, 30));
  });

  it('sinceTime is inclusive and, as the API server passes it on, counts from its whole second', async () => {
    const { clock, client } = setup({ scripts: { since: [{ runMs: 4 * S, logs: ['0', '1', '2', '3'] }] } });
    await client.createJob(NS, fixtureJob('since'));
    await clock.advance(4 * S);
    const pod = podOf(client, 'since');
    const lines = (await client.readPodLog(NS, pod, { timestamps: true })).trimEnd().split('\n');
    const stampOf = (i: number) => lines[i]!.slice(0, lines[i]!.indexOf(' '));
    expect(await client.readPodLog(NS, pod, { sinceTime: stampOf(2) })).toBe('2\n3\n');
    const halfSecondLater = stampOf(2).replace('.000000000Z', '.500000000Z');
    expect(await client.readPodLog(NS, pod, { sinceTime: halfSecondLater })).toBe('2\n3\n');
    await expect(client.readPodLog(NS, pod, { sinceTime: 'yesterday' })).rejects.toMatchObject({
      code: 'API_INVALID',
      status: 400,
    });
  });

  it('cuts follows: a clean cut ends the stream, an abrupt one rejects it; the container goes on', async () => {
    const { clock, client } = setup({ scripts: { cut: [{ runMs: 3 * S, logs: ['a', 'b', 'c'] }] } });
    await client.createJob(NS, fixtureJob('cut'));
    await clock.advance(0);
    const pod = podOf(client, 'cut');
    const seen: string[] = [];
    const clean = client.followPodLog(NS, pod, (l) => seen.push(l));
    const broken = client.followPodLog(NS, pod, () => undefined);
    expect(client.cutLogStreams()).toBe(2);
    await expect(clean).resolves.toBeUndefined();
    await expect(broken).resolves.toBeUndefined();
    const again = client.followPodLog(NS, pod, () => undefined);
    const reset = new Error('connection reset');
    client.cutLogStreams(reset as never);
    await expect(again).rejects.toBe(reset);
    await clock.advance(3 * S);
    expect(seen).toEqual(['a']);
    expect(await client.readPodLog(NS, pod)).toBe('a\nb\nc\n');
  });
});

describe('InMemoryJobClient: deletes', () => {
  it('honours the uid precondition: another Job of the name is left alone with API_CONFLICT', async () => {
    const { client } = setup({ scripts: { j: [{ hang: true }] } });
    const created = await client.createJob(NS, fixtureJob('j'));
    await expect(client.deleteJob(NS, 'j', { uid: 'someone-elses' })).rejects.toMatchObject({
      code: 'API_CONFLICT',
      status: 409,
      message: expect.stringContaining('Precondition failed: UID in precondition: someone-elses'),
    });
    expect(client.jobs(NS)).toHaveLength(1);
    expect(
      await client.deleteJob(NS, 'j', { uid: created.metadata.uid!, propagationPolicy: 'Background' }),
    ).toBe(true);
    expect(client.jobs(NS)).toEqual([]);
    expect(await client.deleteJob(NS, 'j', { uid: created.metadata.uid! })).toBe(false);
  });

  it('a Foreground delete keeps the Job, with a deletionTimestamp, while its pods take stopMs to stop', async () => {
    const { clock, client } = setup({ scripts: { slow: [{ hang: true, stopMs: 20 * S }] } });
    await client.createJob(NS, fixtureJob('slow'));
    await clock.advance(0);
    expect(await client.deleteJob(NS, 'slow')).toBe(true);
    await clock.advance(19 * S);
    const [dying] = client.jobs(NS);
    expect(dying?.metadata.deletionTimestamp).toBeDefined();
    expect(dying?.metadata.finalizers).toEqual(['foregroundDeletion']);
    expect(client.pods(NS)[0]?.metadata.deletionTimestamp).toBeDefined();
    expect(await client.deleteJob(NS, 'slow')).toBe(true);
    await clock.advance(S);
    expect(client.jobs(NS)).toEqual([]);
    expect(client.pods(NS)).toEqual([]);
  });
});

describe('InMemoryJobClient: suspended Jobs (Kueue)', () => {
  it('makes no pod for a Job created suspended, and one once it is resumed', async () => {
    const { clock, client } = setup({ scripts: { q: [{ runMs: S }] } });
    const job = fixtureJob('q');
    job.spec!.suspend = true;
    await client.createJob(NS, job);
    await clock.advance(10 * S);
    expect(client.pods(NS)).toEqual([]);
    expect(client.jobs(NS)[0]?.status?.conditions).toMatchObject([
      { type: 'Suspended', status: 'True', reason: 'JobSuspended' },
    ]);
    expect(client.resumeJob(NS, 'q')).toBe(true);
    await clock.advance(S);
    const done = client.jobs(NS)[0]!;
    expect(done.spec?.suspend).toBe(false);
    expect(done.status?.conditions?.map((c) => `${c.type}=${c.status}`)).toEqual([
      'Suspended=False',
      'SuccessCriteriaMet=True',
      'Complete=True',
    ]);
  });

  it('preempts: suspending stops the running pod without counting a failure; resuming runs a new one', async () => {
    const { clock, client } = setup({
      scripts: { p: [{ runMs: 60 * S, logs: ['working'], stopMs: 2 * S }] },
    });
    await client.createJob(NS, { ...fixtureJob('p'), spec: { ...fixtureJob('p').spec!, backoffLimit: 0 } });
    await clock.advance(10 * S);
    const first = podOf(client, 'p');
    expect(client.suspendJob(NS, 'p')).toBe(true);
    await clock.advance(S);
    expect(client.pods(NS)[0]?.metadata.deletionTimestamp).toBeDefined();
    await clock.advance(5 * S);
    expect(client.pods(NS)).toEqual([]);
    const suspended = client.jobs(NS)[0]!;
    expect(suspended.spec?.suspend).toBe(true);
    expect(suspended.status?.failed).toBeUndefined();
    expect(suspended.status?.conditions?.map((c) => c.type)).toEqual(['Suspended']);
    await clock.advance(10 * 60 * S);
    expect(client.pods(NS)).toEqual([]);
    client.resumeJob(NS, 'p');
    await clock.advance(0);
    const second = podOf(client, 'p');
    expect(second).not.toBe(first);
    await clock.advance(60 * S);
    expect(client.jobs(NS)[0]?.status).toMatchObject({ succeeded: 1 });
    expect(client.jobs(NS)[0]?.status?.failed).toBeUndefined();
  });

  it('says false for a Job that does not exist', () => {
    const { client } = setup();
    expect(client.suspendJob(NS, 'nope')).toBe(false);
  });
});
