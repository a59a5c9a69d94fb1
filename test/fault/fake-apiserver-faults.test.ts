/**
 * The fake API server's production-day faults, checked over plain HTTP (what any client sees): a
 * bearer token that rotates (through a token file), one-off 401/403 on lists, log streams cut cleanly
 * or abruptly, watch drops followed by 410, bookmarks, Jobs suspended and resumed, deletes with
 * `preconditions.uid`, log reads with `timestamps` and `sinceTime`.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { FakeClock } from '../../src/testing/fake-clock.js';
import type { Job } from '../../src/types/kube.js';
import {
  type FakeApiServer,
  type FakeApiServerOptions,
  startFakeApiServer,
} from '../support/fake-apiserver/index.js';

let server: FakeApiServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const JOBS = '/apis/batch/v1/namespaces/default/jobs';

function job(name: string): Job {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, labels: { 'app.kubernetes.io/managed-by': 'k8s-executor' } },
    spec: {
      backoffLimit: 0,
      template: { spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox' }] } },
    },
  };
}

async function start(options: FakeApiServerOptions = {}) {
  server = await startFakeApiServer(options);
  const config = parse(readFileSync(server.kubeconfigPath, 'utf8')) as {
    users: { user: { token?: string; tokenFile?: string } }[];
  };
  return { server, user: config.users[0]!.user };
}

/** One request with a bearer token; the body parsed when it is JSON. */
async function call(path: string, token: string, init: RequestInit = {}) {
  const res = await fetch(`${server!.url}${path}`, {
    ...init,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', ...init.headers },
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // plain text (a log)
  }
  return { status: res.status, body };
}

/** Reads a streaming response line by line until it ends or breaks. */
async function readStream(
  path: string,
  token: string,
  onLine: (line: string) => void,
): Promise<'ended' | 'broke'> {
  try {
    const res = await fetch(`${server!.url}${path}`, { headers: { Authorization: `Bearer ${token}` } });
    const decoder = new TextDecoder();
    let partial = '';
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      partial += decoder.decode(chunk, { stream: true });
      const lines = partial.split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) onLine(line);
    }
    return 'ended';
  } catch {
    return 'broke';
  }
}

const tick = () => new Promise((r) => setImmediate(r));

describe('fake API server: credentials', () => {
  it('writes a token file, refuses the old token once rotated (after its grace), and counts the 401s', async () => {
    const clock = new FakeClock();
    const { server, user } = await start({ clock, tokenFile: true, token: 'first' });
    expect(user.token).toBeUndefined();
    expect(readFileSync(user.tokenFile!, 'utf8')).toBe('first');
    expect((await call(JOBS, 'first')).status).toBe(200);
    server.rotateToken('second', { graceMs: 10_000 });
    expect(readFileSync(user.tokenFile!, 'utf8')).toBe('second');
    expect((await call(JOBS, 'first')).status).toBe(200);
    await clock.advance(10_000);
    expect(await call(JOBS, 'first')).toMatchObject({ status: 401, body: { reason: 'Unauthorized' } });
    expect((await call(JOBS, 'second')).status).toBe(200);
    expect(server.stats().unauthorized).toBe(1);
  });

  it('answers one-off 401 and 403 on lists from its fault plan, then lists again', async () => {
    const { server, user } = await start({
      faults: [
        { verbs: ['list'], resources: ['pods'], fault: { type: 'status', status: 401 }, count: 1 },
        {
          verbs: ['list'],
          resources: ['jobs'],
          fault: { type: 'status', status: 403, message: 'jobs is forbidden' },
          count: 1,
        },
      ],
    });
    const token = user.token!;
    expect(await call('/api/v1/namespaces/default/pods', token)).toMatchObject({ status: 401 });
    expect(await call(JOBS, token)).toMatchObject({
      status: 403,
      body: { reason: 'Forbidden', message: 'jobs is forbidden' },
    });
    expect((await call('/api/v1/namespaces/default/pods', token)).status).toBe(200);
    expect((await call(JOBS, token)).status).toBe(200);
    expect(server.stats().faults).toEqual({ 'list pods': 1, 'list jobs': 1 });
  });
});

describe('fake API server: logs', () => {
  async function runningPod(clock: FakeClock, logs: string[], runMs = 60_000) {
    const { server, user } = await start({ clock, scripts: () => [{ runMs, logs }] });
    const token = user.token!;
    await call(JOBS, token, { method: 'POST', body: JSON.stringify(job('logs')) });
    await clock.advance(0);
    const pod = server.cluster.pods()[0]!.metadata.name!;
    return { server, token, path: `/api/v1/namespaces/default/pods/${pod}/log` };
  }

  it('stamps lines with timestamps=true and honours an inclusive sinceTime', async () => {
    const clock = new FakeClock();
    const { token, path } = await runningPod(clock, ['a', 'b', 'c']);
    await clock.advance(30_000);
    const { body } = await call(`${path}?timestamps=true`, token);
    const lines = String(body).trimEnd().split('\n');
    expect(lines.map((l) => l.slice(l.indexOf(' ') + 1))).toEqual(['a', 'b']);
    const second = lines[1]!.slice(0, lines[1]!.indexOf(' '));
    expect(second).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
    expect((await call(`${path}?sinceTime=${encodeURIComponent(second)}`, token)).body).toBe('b\n');
  });

  it('cuts log follows cleanly (the response ends) or abruptly (the connection breaks), now or every N ms', async () => {
    const clock = new FakeClock();
    const { server, token, path } = await runningPod(clock, ['a']);
    const seen: string[] = [];
    const clean = readStream(`${path}?follow=true`, token, (l) => seen.push(l));
    while (server.stats().openLogStreams < 1) await tick();
    expect(server.cutLogStreams()).toBe(1);
    expect(await clean).toBe('ended');
    expect(seen).toEqual(['a']);
    const abrupt = readStream(`${path}?follow=true`, token, () => undefined);
    while (server.stats().openLogStreams < 1) await tick();
    expect(server.cutLogStreams({ abrupt: true })).toBe(1);
    expect(await abrupt).toBe('broke');
  });

  it("ends a follow open when the container exits at the kubelet's next check, not with the container", async () => {
    const clock = new FakeClock();
    // Lines at 0 and 30.25 s, the exit at 60.5 s: the kubelet checks at 30.25 s + k s, so at 61.25 s.
    const { server, token, path } = await runningPod(clock, ['a', 'b'], 60_500);
    let ended = false;
    const seen: string[] = [];
    const follow = readStream(`${path}?follow=true`, token, (l) => seen.push(l)).then((how) => {
      ended = true;
      return how;
    });
    while (server.stats().openLogStreams < 1) await tick();
    await clock.advance(60_500);
    expect(server.cluster.pods()[0]!.status?.containerStatuses?.[0]?.state?.terminated).toBeDefined();
    await clock.advance(749);
    for (let i = 0; i < 5; i++) await tick();
    expect(ended).toBe(false);
    await clock.advance(1);
    expect(await follow).toBe('ended');
    expect(seen).toEqual(['a', 'b']);
    // Opened after the exit: the kubelet finds the container stopped at once.
    expect(await readStream(`${path}?follow=true`, token, () => undefined)).toBe('ended');
  });

  it('ends a follow of a running container at once when it is cut cleanly', async () => {
    const clock = new FakeClock();
    const { server, token, path } = await runningPod(clock, ['a', 'b']);
    const follow = readStream(`${path}?follow=true`, token, () => undefined);
    while (server.stats().openLogStreams < 1) await tick();
    await clock.advance(40_000);
    expect(server.cutLogStreams()).toBe(1);
    expect(await follow).toBe('ended');
  });

  it('cuts every open follow every logCutEveryMs of its clock', async () => {
    const clock = new FakeClock();
    server = await startFakeApiServer({
      clock,
      logCutEveryMs: 60_000,
      scripts: () => [{ hang: true, logs: ['x'] }],
    });
    const token = 'fake-apiserver-token';
    await call(JOBS, token, { method: 'POST', body: JSON.stringify(job('cut')) });
    await clock.advance(0);
    const path = `/api/v1/namespaces/default/pods/${server.cluster.pods()[0]!.metadata.name}/log?follow=true`;
    const follow = readStream(path, token, () => undefined);
    while (server.stats().openLogStreams < 1) await tick();
    await clock.advance(59_000);
    expect(server.stats().openLogStreams).toBe(1);
    await clock.advance(1000);
    expect(await follow).toBe('ended');
  });
});

describe('fake API server: watches, suspension, deletes', () => {
  it('drops every watch every watchDropEveryMs, the resume from the old version getting 410 Gone', async () => {
    const clock = new FakeClock();
    const { server, user } = await start({ clock, watchDropEveryMs: 30_000 });
    const token = user.token!;
    await call(JOBS, token, { method: 'POST', body: JSON.stringify(job('w')) });
    const list = (await call(JOBS, token)).body as { metadata: { resourceVersion: string } };
    const events: { type: string }[] = [];
    const watch = readStream(
      `${JOBS}?watch=true&allowWatchBookmarks=true&resourceVersion=${list.metadata.resourceVersion}`,
      token,
      (l) => events.push(JSON.parse(l) as { type: string }),
    );
    while (server.stats().openWatches < 1) await tick();
    // Something changes (so the version we had gets old), then the history is forgotten and the watch dropped.
    await call(JOBS, token, { method: 'POST', body: JSON.stringify(job('w2')) });
    await clock.advance(30_000);
    expect(await watch).toBe('ended');
    // The resume from the version we had is refused.
    const gone: { type: string; object: { code?: number } }[] = [];
    await readStream(`${JOBS}?watch=true&resourceVersion=${list.metadata.resourceVersion}`, token, (l) =>
      gone.push(JSON.parse(l) as (typeof gone)[number]),
    );
    expect(gone).toMatchObject([{ type: 'ERROR', object: { code: 410 } }]);
    expect(events.map((e) => e.type)).not.toContain('ERROR');
  });

  it('sends a BOOKMARK a minute to a watch with allowWatchBookmarks', async () => {
    const clock = new FakeClock();
    const { server, user } = await start({ clock });
    const events: { type: string }[] = [];
    const watch = readStream(`${JOBS}?watch=true&allowWatchBookmarks=true`, user.token!, (l) =>
      events.push(JSON.parse(l) as { type: string }),
    );
    while (server.stats().openWatches < 1) await tick();
    await clock.advance(60_000);
    while (events.length < 1) await tick();
    server.dropWatches();
    await watch;
    expect(events.map((e) => e.type)).toEqual(['BOOKMARK']);
  });

  it('suspends and resumes a Job as Kueue preempts and admits it', async () => {
    const clock = new FakeClock();
    const { server, user } = await start({ clock, scripts: () => [{ runMs: 10_000 }] });
    await call(JOBS, user.token!, { method: 'POST', body: JSON.stringify(job('q')) });
    await clock.advance(1000);
    expect(server.suspendJob('default', 'q')).toBe(true);
    await clock.advance(1000);
    expect(server.cluster.pods()).toEqual([]);
    expect(server.resumeJob('default', 'q')).toBe(true);
    await clock.advance(10_000);
    expect(server.cluster.jobs()[0]?.status).toMatchObject({ succeeded: 1 });
  });

  it('refuses a delete whose preconditions.uid names another Job with 409 Conflict', async () => {
    const { server, user } = await start({ scripts: () => [{ hang: true }] });
    const token = user.token!;
    const created = (await call(JOBS, token, { method: 'POST', body: JSON.stringify(job('d')) })).body as Job;
    const refused = await call(`${JOBS}/d`, token, {
      method: 'DELETE',
      body: JSON.stringify({ kind: 'DeleteOptions', apiVersion: 'v1', preconditions: { uid: 'other' } }),
    });
    expect(refused).toMatchObject({ status: 409, body: { reason: 'Conflict' } });
    expect(server.cluster.jobs()).toHaveLength(1);
    const deleted = await call(`${JOBS}/d?propagationPolicy=Background`, token, {
      method: 'DELETE',
      body: JSON.stringify({ preconditions: { uid: created.metadata.uid } }),
    });
    expect(deleted.status).toBe(200);
    expect(server.cluster.jobs()).toEqual([]);
  });
});
