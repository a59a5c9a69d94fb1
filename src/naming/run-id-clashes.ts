import { runIdPart } from './job-name.js';

/**
 * The keys (block uuids, say) whose run ids would give the same Job name, in groups of two or more, in
 * the order given: their run ids are equal, or differ only in case and `_` versus `-`, which a Job name
 * (DNS-1123, lowercase) cannot tell apart (see {@link runIdPart}; any other difference gets a hash).
 * Pure.
 *
 * @example runIdClashes([['a_b', '7-a_b'], ['a-b', '7-a-b'], ['A.B', '7-A.B']]) // [['a_b', 'a-b']]
 */
export function runIdClashes(runIds: Iterable<readonly [key: string, runId: string]>): string[][] {
  const byPart = new Map<string, string[]>();
  for (const [key, runId] of runIds) {
    const part = runIdPart(runId);
    const group = byPart.get(part);
    if (group) group.push(key);
    else byPart.set(part, [key]);
  }
  return [...byPart.values()].filter((group) => group.length > 1);
}
