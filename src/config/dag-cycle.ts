/**
 * The first cycle among the blocks' upstream links (depth-first from each block in file order, each
 * block's upstream links in their order), as uuids ending where it began; `undefined` for a DAG.
 * Iterative (an explicit stack, not recursion), so a chain of any length is checked in linear time and
 * space without overflowing the call stack. Upstream uuids that are not blocks are ignored. Pure.
 *
 * @example findCycle([{ uuid: 'a', upstream: ['b'] }, { uuid: 'b', upstream: ['a'] }]) // ['a', 'b', 'a']
 */
export function findCycle(
  blocks: readonly { uuid: string; upstream: readonly string[] }[],
): string[] | undefined {
  const upstreamOf = new Map(blocks.map((b) => [b.uuid, b.upstream]));
  const state = new Map<string, 'visiting' | 'done'>();
  // The path being walked, with how many upstream links of each block were followed so far.
  const path: string[] = [];
  const followed: number[] = [];
  const positionOnPath = new Map<string, number>();
  for (const block of blocks) {
    if (state.has(block.uuid)) continue;
    enter(block.uuid);
    while (path.length > 0) {
      const top = path.length - 1;
      const uuid = path[top]!;
      const links = upstreamOf.get(uuid) ?? [];
      const next = links[followed[top]!];
      if (next === undefined) {
        state.set(uuid, 'done');
        positionOnPath.delete(uuid);
        path.pop();
        followed.pop();
        continue;
      }
      followed[top]! += 1;
      if (!upstreamOf.has(next)) continue;
      const seen = state.get(next);
      if (seen === 'visiting') return [...path.slice(positionOnPath.get(next)), next];
      if (seen === undefined) enter(next);
    }
  }
  return undefined;

  function enter(uuid: string): void {
    state.set(uuid, 'visiting');
    positionOnPath.set(uuid, path.length);
    path.push(uuid);
    followed.push(0);
  }
}

/** A cycle shown in a message: every block when it is short, else its first and last ten around a count. */
export function describeCycle(cycle: readonly string[]): string {
  if (cycle.length <= 21) return cycle.join(' → ');
  const hidden = cycle.length - 20;
  return [...cycle.slice(0, 10), `… ${hidden} more …`, ...cycle.slice(-10)].join(' → ');
}
