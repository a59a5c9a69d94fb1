// ObjectCache's Job index (groupOf/inGroup) always agrees with a scan of the whole
// cache (the replay before the index), in order too, through upserts, label changes, owner-only pods,
// deletes and relists (forgetUnlisted); and no empty group is kept. (Order differs only for a pod whose
// Job label changed: it goes to the end of its new group.)
import { describe, expect, it } from 'vitest';
import { ObjectCache } from '../../src/monitor/object-cache.js';
import { jobNameOfPod } from '../../src/monitor/pod-summary.js';
import type { Pod } from '../../src/types/kube.js';
import { seededRandom } from '../support/fake-apiserver/seeded-random.js';

/** Integers in [0, n), seeded. */
function rng(seed: number) {
  const random = seededRandom(seed);
  return (n: number) => Math.floor(random() * n);
}

describe('ObjectCache groups', () => {
  it('inGroup equals a filtered scan after any sequence of changes', () => {
    let sawOne = false;
    let sawMany = false;
    for (let seed = 1; seed <= 30; seed++) {
      const r = rng(seed);
      const cache = new ObjectCache<Pod>(() => undefined, jobNameOfPod);
      let rv = 1;
      const pod = (name: string): Pod => {
        const job = `j${r(4)}`;
        const how = r(4);
        return {
          metadata: {
            name,
            resourceVersion: String(rv++),
            ...(how === 0 ? { labels: { 'batch.kubernetes.io/job-name': job } } : {}),
            ...(how === 1 ? { labels: { 'job-name': job } } : {}),
            ...(how === 2
              ? {
                  ownerReferences: [
                    { kind: 'Job', name: job, uid: 'u', controller: true, apiVersion: 'batch/v1' },
                  ],
                }
              : {}),
          },
        } as Pod;
      };
      for (let step = 0; step < 400; step++) {
        const name = `p${r(12)}`;
        const op = r(10);
        if (op < 6) cache.upsert(pod(name));
        else if (op < 8) cache.remove({ metadata: { name } });
        else {
          const listed = new Set(
            [...cache.values()].map((p) => p.metadata.name ?? '').filter(() => r(2) === 0),
          );
          cache.forgetUnlisted(listed, String(rv));
        }
        for (const job of ['j0', 'j1', 'j2', 'j3']) {
          const scan = [...cache.values()].filter((p) => jobNameOfPod(p) === job).map((p) => p.metadata.name);
          const indexed = cache.inGroup(job).map((p) => p.metadata.name);
          // The same pods; in the same order unless a pod moved between Jobs (a label edit nobody makes).
          expect(new Set(indexed)).toEqual(new Set(scan));
          expect(indexed.length).toBe(scan.length);
        }
      }
      // A group of one pod is that pod's name (no set per Job); no group is ever empty.
      const groups = (cache as unknown as { groups: Map<string, string | Set<string>> }).groups;
      for (const names of groups.values()) {
        if (typeof names === 'string') expect(cache.get(names)).toBeDefined();
        else expect(names.size).toBeGreaterThan(0);
      }
      sawOne ||= [...groups.values()].some((names) => typeof names === 'string');
      sawMany ||= [...groups.values()].some((names) => typeof names !== 'string' && names.size > 1);
    }
    expect(sawOne && sawMany).toBe(true); // both forms were exercised
  });
});
