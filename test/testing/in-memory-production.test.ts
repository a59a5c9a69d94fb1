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
