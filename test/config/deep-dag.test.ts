/**
 * Regression (review finding `deep-dag-stack-overflow`). Before: the cycle check of a pipeline's blocks is recursive (src/config/pipeline.ts, findCycle's
 * `visit`), so a long chain of upstream links overflows the stack: a valid pipeline of a few thousand blocks
 * written in reverse order (each block's upstream further down the file), or a long cycle, makes `validate`
 * (and `run`, `render`, the library) fail with "Maximum call stack size exceeded", without an error code or
 * a file:line. Now the check is iterative (src/config/dag-cycle.ts).
 */
import { describe, expect, it } from 'vitest';
import { describeCycle, findCycle } from '../../src/config/dag-cycle.js';
import { cli } from '../cli/run-cli.js';
import { projectFiles, writeProject } from '../helpers/project.js';

const N = 8000;
const chain = (upstreamOf: (i: number) => string) =>
  Array.from({ length: N }, (_, i) => `  - uuid: b${i}\n    upstream_blocks: [${upstreamOf(i)}]\n`).join('');

describe('a long chain of upstream links', () => {
  it('a valid pipeline whose blocks are listed downstream first validates', async () => {
    const dir = writeProject(projectFiles(chain((i) => (i < N - 1 ? `b${i + 1}` : ''))));
    const result = await cli(['validate', '--project', dir]);
    expect(result.stderr).not.toMatch(/call stack/);
    expect(result.code).toBe(0);
  }, 60_000);

  it('a long cycle is reported as DAG_CYCLE', async () => {
    const dir = writeProject(projectFiles(chain((i) => `b${(i + 1) % N}`)));
    const result = await cli(['validate', '--project', dir]);
    expect(result.stderr).not.toMatch(/call stack/);
    expect(result.stderr).toMatch(/DAG_CYCLE/);
    expect(result.stderr).toContain(
      'the blocks form a cycle (each one waits for the next): b0 → b1 → b2 → b3 → b4 → b5 → b6 → b7 → b8 → b9 → … 7981 more … → b7991',
    );
    expect(result.stderr).toContain('b7998 → b7999 → b0. Remove one of these upstream links. [DAG_CYCLE]');
  }, 60_000);
});

describe('findCycle', () => {
  const blocks = (links: Record<string, string[]>) =>
    Object.entries(links).map(([uuid, upstream]) => ({ uuid, upstream }));

  it.each([
    ['a DAG', { a: [], b: ['a'], c: ['a', 'b'] }, undefined],
    ['a self-loop', { a: ['a'] }, ['a', 'a']],
    ['a cycle of two, named from the first block in file order', { a: ['b'], b: ['a'] }, ['a', 'b', 'a']],
    ['a cycle reached through a chain', { x: ['a'], a: ['b'], b: ['c'], c: ['a'] }, ['a', 'b', 'c', 'a']],
    ['the first cycle depth-first', { a: ['b', 'c'], b: [], c: ['d'], d: ['c'] }, ['c', 'd', 'c']],
    ['upstream links to unknown blocks are ignored', { a: ['nope'], b: ['a'] }, undefined],
  ])('%s', (_case, links, cycle) => {
    expect(findCycle(blocks(links))).toEqual(cycle);
  });

  it('names every block of a short cycle', () => {
    const cycle = Array.from({ length: 21 }, (_, i) => `b${i % 20}`);
    expect(describeCycle(cycle)).toBe(cycle.join(' → '));
  });

  it('walks a chain of 200,000 blocks without recursion', () => {
    const n = 200_000;
    const chain = Array.from({ length: n }, (_, i) => ({
      uuid: `b${i}`,
      upstream: i < n - 1 ? [`b${i + 1}`] : [],
    }));
    expect(findCycle(chain)).toBeUndefined();
    chain[n - 1] = { uuid: `b${n - 1}`, upstream: ['b0'] };
    expect(findCycle(chain)).toHaveLength(n + 1);
  });
});
