import { describe, expect, it } from 'vitest';
import { cpuTicksOf, stealShare } from '../../bench/cpu-steal.js';

describe('cpuTicksOf', () => {
  it('counts user, nice, system, irq, softirq and steal as busy, steal apart, and guest time not twice', () => {
    // guest (700) and guest_nice (50) are already inside user and nice.
    const stat =
      'cpu  40611 3 7448 121161 518 7 996 6033 700 50\ncpu0 20000 1 3700 60000 250 3 500 3000 0 0\n';
    expect(cpuTicksOf(stat)).toEqual({ busy: 40611 + 3 + 7448 + 7 + 996 + 6033, steal: 6033 });
  });

  it('reads a kernel without the steal column as unknown, not as no steal', () => {
    expect(cpuTicksOf('cpu  40611 3 7448 121161 518 7 996\n')).toBeUndefined();
  });

  it('refuses text whose first line is not the aggregate cpu line, or holds a negative count', () => {
    expect(cpuTicksOf('cpu0 1 2 3 4 5 6 7 8 0 0\n')).toBeUndefined();
    expect(cpuTicksOf('cpu 1 2 3 4 5 6 7 -8\n')).toBeUndefined();
    expect(cpuTicksOf('')).toBeUndefined();
  });
});

describe('stealShare', () => {
  it('is the stolen part of the busy time between two readings', () => {
    expect(stealShare({ busy: 1000, steal: 100 }, { busy: 1400, steal: 200 })).toBe(0.25);
  });

  it('is unknown without both readings, without busy time between them, or when steal went backwards', () => {
    expect(stealShare(undefined, { busy: 1400, steal: 200 })).toBeUndefined();
    expect(stealShare({ busy: 1000, steal: 100 }, undefined)).toBeUndefined();
    expect(stealShare({ busy: 1000, steal: 100 }, { busy: 1000, steal: 100 })).toBeUndefined();
    expect(stealShare({ busy: 1000, steal: 100 }, { busy: 1400, steal: 90 })).toBeUndefined();
  });
});
