import { describe, expect, it } from 'vitest';
import { cpuTicksOf } from '../../bench/cpu-steal.js';

describe('cpuTicksOf', () => {
  it('counts user, nice, system, irq, softirq and steal as busy, and steal apart', () => {
    const stat = 'cpu  40611 3 7448 121161 518 7 996 6033 0 0\ncpu0 20000 1 3700 60000 250 3 500 3000 0 0\n';
    expect(cpuTicksOf(stat)).toEqual({ busy: 40611 + 3 + 7448 + 7 + 996 + 6033, steal: 6033 });
  });

  it('reads a kernel without the steal column as unknown, not as no steal', () => {
    expect(cpuTicksOf('cpu  40611 3 7448 121161 518 7 996\n')).toBeUndefined();
  });

  it('refuses text whose first line is not the aggregate cpu line', () => {
    expect(cpuTicksOf('cpu0 1 2 3 4 5 6 7 8 0 0\n')).toBeUndefined();
    expect(cpuTicksOf('')).toBeUndefined();
  });
});
