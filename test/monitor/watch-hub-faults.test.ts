/**
 * The shared watch under the faults of a production day: refused lists (a token at its expiry edge,
 * an authenticator hiccup, a RoleBinding re-applied by GitOps), Roles that stay broken, watches that
 * die without closing, and observers that throw.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CALLBACK_WARNING_CODE } from '../../src/errors/isolate-callback.js';
import type { Observation } from '../../src/monitor/types.js';
import { type HubEvent, WatchHub, type WatchHubOptions } from '../../src/monitor/watch-hub.js';
import { FakeClock, flushMicrotasks } from '../../src/testing/fake-clock.js';
import { job, NAMESPACE, T0 } from './kube-fixtures.js';
import { forbidden, gone, ScriptedJobClient, unauthorized, unavailable } from './scripted-job-client.js';

const S = 1000;
const MIN = 60 * S;

function setup(options: Partial<WatchHubOptions> = {}) {
  const clock = new FakeClock(T0);
  const client = new ScriptedJobClient();
  const events: HubEvent[] = [];
  const hub = new WatchHub({
    jobClient: client,
    clock,
    namespace: NAMESPACE,
    labelSelector: 'app.kubernetes.io/managed-by=k8s-executor',
    pollIntervalMs: 10 * S,
    onHubEvent: (e) => events.push(e),
    ...options,
  });
  return { clock, client, hub, events };
}

/** Subscribes and keeps what arrives. */
function follow(hub: WatchHub, jobName = 'job-1') {
  const seen: Observation[] = [];
  const sub = hub.subscribe(jobName, (o) => seen.push(o));
  const unobservable = () => seen.filter((o) => o.kind === 'unobservable');
  return { seen, sub, unobservable };
}

const bookmark = (rv: string) => ({ metadata: { resourceVersion: rv } });

afterEach(() => {
  vi.restoreAllMocks();
});

describe('WatchHub: a refused list', () => {
  it.each([
    ['401', unauthorized],
    ['403', forbidden],
  ])(
    'a single %s on a relist of a listable namespace is retried with the backoff; the follows keep waiting',
    async (_s, refused) => {
      const { client, hub, clock } = setup();
      const f = follow(hub);
      await flushMicrotasks();
      client.podListFailures.push(refused());
      client.podWatch.fail(gone());
      await flushMicrotasks();
      expect(client.count('listPods')).toBe(2);
      await clock.advance(S);
      expect(client.count('listPods')).toBe(3);
      expect(client.podWatches).toHaveLength(2);
      expect(f.unobservable()).toEqual([]);
    },
  );

  it('fails the follows at the first refusal when the namespace was never listable (RBAC missing)', async () => {
    const { client, hub } = setup();
    const error = forbidden();
    client.jobListFailures.push(error);
    const f = follow(hub);
    await flushMicrotasks();
    expect(f.unobservable()).toEqual([{ kind: 'unobservable', error, at: T0 }]);
  });

  it('fails the follows once every list was refused for 5 min, saying so; 5xx in between do not reset the count', async () => {
    const { client, hub, clock } = setup();
    const f = follow(hub);
    await flushMicrotasks();
    // From now on the Role is gone: every Pods list is refused, with one 503 now and then.
    for (let i = 0; i < 200; i++) client.podListFailures.push(i % 5 === 2 ? unavailable() : forbidden());
    client.podWatch.fail(gone());
    await clock.advance(4 * MIN + 50 * S);
    expect(f.unobservable()).toEqual([]);
    await clock.advance(20 * S);
    const [told] = f.unobservable();
    expect(told?.error).toMatchObject({ code: 'API_FORBIDDEN', status: 403 });
    expect(String((told?.error as Error | undefined)?.message)).toMatch(
      /Every list of pods in namespace "etl" was refused for 300 s, so the blocks there cannot be followed/,
    );
    expect(told!.at - T0).toBeGreaterThanOrEqual(5 * MIN);
    expect(told!.at - T0).toBeLessThan(5 * MIN + 11 * S);
  });

  it('a list that works in between starts the count again', async () => {
    const { client, hub, clock } = setup({ unlistableTimeoutMs: 2 * MIN });
    const f = follow(hub);
    await flushMicrotasks();
    for (let i = 0; i < 5; i++) client.podListFailures.push(forbidden()); // 5 refusals: ~31 s of backoff
    client.podWatch.fail(gone());
    await clock.advance(MIN);
    expect(client.podWatches).toHaveLength(2);
    for (let i = 0; i < 5; i++) client.podListFailures.push(forbidden());
    client.podWatch.fail(gone());
    await clock.advance(MIN + 30 * S);
    expect(f.unobservable()).toEqual([]);
  });

  it('remembers across sessions that the namespace was listable', async () => {
    const { client, hub, clock } = setup({ idleTimeoutMs: 0 });
    const first = follow(hub);
    await flushMicrotasks();
    first.sub.dispose();
    // A later block (the next of a chain) starts a new session whose first list gets a one-off 401.
    client.jobListFailures.push(unauthorized());
    const second = follow(hub, 'job-2');
    await flushMicrotasks();
    await clock.advance(S);
    expect(second.unobservable()).toEqual([]);
    expect(client.count('listJobs')).toBe(3);
    expect(client.jobWatches).toHaveLength(2);
  });

  it('a transient failure on the first list is only retried', async () => {
    const { client, hub, clock } = setup();
    client.jobListFailures.push(unavailable(), unavailable());
    const f = follow(hub);
    await clock.advance(3 * S);
    expect(f.unobservable()).toEqual([]);
    expect(client.jobWatches).toHaveLength(1);
  });
});

describe('WatchHub: a silent watch', () => {
  it('is stopped after silentWatchMs without an event or bookmark, and resumed at once from the last version', async () => {
    const { client, hub, clock, events } = setup({ silentWatchMs: 75 * S });
    follow(hub);
    await flushMicrotasks();
    await clock.advance(50 * S);
    client.jobWatch.emit('BOOKMARK', bookmark('150')); // the server's minute bookmark keeps it alive
    await clock.advance(70 * S);
    expect(client.jobWatches).toHaveLength(1);
    await clock.advance(5 * S); // 75 s after the bookmark
    expect(client.jobWatches).toHaveLength(2);
    expect(client.jobWatches[0]?.aborted).toBe(true);
    expect(client.jobWatch.options.resourceVersion).toBe('150');
    expect(client.count('listJobs')).toBe(1);
    expect(hub.stats.reconnects).toBe(0);
    expect(events.filter((e) => e.type === 'watch-silent').map((e) => e.resource)).toEqual(['pods', 'jobs']);
  });

  it('events keep a watch alive as bookmarks do', async () => {
    const { client, hub, clock } = setup({ silentWatchMs: 75 * S });
    follow(hub);
    await flushMicrotasks();
    for (let i = 0; i < 10; i++) {
      await clock.advance(60 * S);
      client.jobWatch.emit('MODIFIED', job({ name: 'job-1', rv: String(200 + i) }));
      client.podWatch.emit('BOOKMARK', bookmark(String(200 + i)));
    }
    expect([client.jobWatches.length, client.podWatches.length]).toEqual([1, 1]);
  });
});

describe('WatchHub: an onHubEvent that throws', () => {
  it('is reported once as a process warning and changes nothing', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const clock = new FakeClock(T0);
    const client = new ScriptedJobClient();
    const hub = new WatchHub({
      jobClient: client,
      clock,
      namespace: NAMESPACE,
      labelSelector: 'x=y',
      onHubEvent: () => {
        throw new Error('observer bug');
      },
    });
    const f = follow(hub);
    await flushMicrotasks();
    client.jobWatch.emit('ADDED', job({ name: 'job-1', rv: '101' }));
    client.jobWatch.fail(unavailable());
    await clock.advance(S);
    expect(f.seen.map((o) => o.kind)).toEqual(['job']);
    expect(client.jobWatches).toHaveLength(2);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]?.[1]).toMatchObject({ code: CALLBACK_WARNING_CODE });
  });
});
