import { describe, expect, it } from 'vitest';
import { runIdClashes } from '../../src/naming/run-id-clashes.js';

describe('runIdClashes', () => {
  it('groups the run ids that differ only in case or _ versus -, in the order given', () => {
    expect(
      runIdClashes([
        ['a_b', '7-a_b'],
        ['x', '7-x'],
        ['a-b', '7-a-b'],
        ['A.B', '7-A.B'],
        ['A_B', '7-A_B'],
      ]),
    ).toEqual([['a_b', 'a-b', 'A_B']]);
  });

  it('finds equal run ids too, and nothing among ids that differ otherwise', () => {
    expect(
      runIdClashes([
        ['a', '42'],
        ['b', '42'],
      ]),
    ).toEqual([['a', 'b']]);
    expect(
      runIdClashes([
        ['a', '2024-05-01T10:00+01:00'],
        ['b', '2024-05-01T10:00-01:00'],
        ['c', '7-a.b'],
        ['d', '7-a:b'],
      ]),
    ).toEqual([]);
  });
});
