import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type BenchResults, renderNumbers } from '../../bench/report.js';

/**
 * The bench's last full results, as `npm run bench` wrote them: the shape of every scenario (what a
 * test below reads is set by the test).
 */
const latest = JSON.parse(
  readFileSync(new URL('../../bench/results/latest.json', import.meta.url), 'utf8'),
) as BenchResults;

/** The last cell ("Met") of the Targets row that starts with `target`. */
function met(results: BenchResults, target: string): string {
  const row = renderNumbers(results)
    .split('\n')
    .find((line) => line.startsWith(`| ${target}`));
  if (!row) throw new Error(`no target row starting with "${target}"`);
  return row.split(' | ').at(-1)!.replace(/ \|$/, '');
}

interface ManyRun {
  rssMiB: number;
  p99: number;
  wrong?: number;
}

/**
 * The results with the 10,000-block runs' peak RSS (MiB), detection p99 (ms) and wrong results set: with
 * Node's defaults, under `--optimize-for-size`, and in a pod of 1 GiB (or skipped, as where no memory
 * cgroup can be made).
 */
function withMany(defaults: ManyRun, lean: ManyRun, pod: ManyRun | 'skipped' = 'skipped'): BenchResults {
  const set = (o: BenchResults['many'], v: ManyRun, nodeFlags: string[]) => ({
    ...o,
    nodeFlags,
    maxRssMiB: v.rssMiB,
    detection: { ...o.detection, p99: v.p99 },
    wrongResults: v.wrong ?? 0,
  });
  return {
    ...latest,
    many: set(latest.many, defaults, []),
    manyLean: set(latest.manyLean, lean, ['--optimize-for-size']),
    manyPod:
      pod === 'skipped'
        ? { skipped: 'no memory cgroup could be made: EACCES: permission denied' }
        : { ...set(latest.many, pod, []), memoryLimitMiB: 1024 },
  };
}

const IN_POD = "Node's defaults in a pod with a 1,024 MiB memory limit (a memory cgroup)";

const RSS = '10,000 concurrently running blocks: peak RSS';
const DETECTION = '10,000 concurrently running blocks: detection p99';

describe('the reading of the 10,000-block targets', () => {
  it('names the flag when only the run under it stays within 300 MB', () => {
    expect(met(withMany({ rssMiB: 535, p99: 16 }, { rssMiB: 252, p99: 40 }), RSS)).toBe(
      'with `node --optimize-for-size` only (see "Many concurrent blocks")',
    );
  });

  it('is met outright when both runs stay within 300 MB, and not met when neither does', () => {
    expect(met(withMany({ rssMiB: 280, p99: 16 }, { rssMiB: 252, p99: 40 }), RSS)).toBe('yes');
    expect(met(withMany({ rssMiB: 535, p99: 16 }, { rssMiB: 287, p99: 40 }), RSS)).toBe('no');
  });

  it('judges 300 MB on the exact peak (286.1 MiB is 299.998 MB, 286.2 MiB is 300.1 MB)', () => {
    const at = (rssMiB: number) => withMany({ rssMiB: 535, p99: 16 }, { rssMiB, p99: 40 });
    expect(met(at(286.1), RSS)).toMatch(/^with `node --optimize-for-size` only/);
    expect(met(at(286.2), RSS)).toBe('no');
    expect(renderNumbers(at(286.2))).toContain('300.1 MB (286 MiB;');
  });

  it('meets the detection target only where both runs keep p99 within 50 ms', () => {
    expect(met(withMany({ rssMiB: 535, p99: 16 }, { rssMiB: 252, p99: 49 }), DETECTION)).toBe('yes');
    expect(met(withMany({ rssMiB: 535, p99: 16 }, { rssMiB: 252, p99: 51 }), DETECTION)).toBe(
      `with Node's defaults on this host (no memory limit) only (see "Many concurrent blocks")`,
    );
    expect(met(withMany({ rssMiB: 535, p99: 51 }, { rssMiB: 252, p99: 52 }), DETECTION)).toBe('no');
  });

  it('does not meet the detection target where a run had a wrong result, however fast', () => {
    expect(met(withMany({ rssMiB: 535, p99: 16, wrong: 1 }, { rssMiB: 252, p99: 40 }), DETECTION)).toBe(
      'with `node --optimize-for-size` only (see "Many concurrent blocks")',
    );
  });
});

describe('the 10,000 blocks in a pod with a memory limit', () => {
  it('counts the run in a pod as one more way the target can be met, or not', () => {
    const results = (podMiB: number) =>
      withMany({ rssMiB: 494, p99: 16 }, { rssMiB: 230, p99: 41 }, { rssMiB: podMiB, p99: 20 });
    expect(met(results(280), RSS)).toBe(
      `with \`node --optimize-for-size\` and with ${IN_POD} only (see "Many concurrent blocks")`,
    );
    expect(met(results(306), RSS)).toBe(
      'with `node --optimize-for-size` only (see "Many concurrent blocks")',
    );
    expect(renderNumbers(results(306))).toContain(`320.9 MB (306 MiB; `);
  });

  it("is a yes only when every run, the pod's included, meets the target", () => {
    const all = withMany({ rssMiB: 280, p99: 16 }, { rssMiB: 230, p99: 41 }, { rssMiB: 260, p99: 60 });
    expect(met(all, RSS)).toBe('yes');
    expect(met(all, DETECTION)).toBe(
      `with Node's defaults on this host (no memory limit) and with \`node --optimize-for-size\` only (see "Many concurrent blocks")`,
    );
  });

  it('says the pod was not measured, and why, where no memory cgroup could be made', () => {
    const skipped = withMany({ rssMiB: 494, p99: 16 }, { rssMiB: 230, p99: 41 });
    expect(renderNumbers(skipped)).toContain(
      'not measured in a pod (no memory cgroup could be made: EACCES: permission denied)',
    );
    expect(renderNumbers(skipped)).not.toContain('executor in a pod');
  });
});

describe('results of an earlier bench', () => {
  it('render without the run in a pod and without heap limits (bench/results/2026-12-02T21-54.json)', () => {
    const earlier = JSON.parse(
      readFileSync(new URL('../../bench/results/2026-12-02T21-54.json', import.meta.url), 'utf8'),
    ) as BenchResults;
    const numbers = renderNumbers(earlier);
    expect(numbers).toContain('not measured in a pod (results from before that run existed)');
    expect(numbers).toContain("| V8's heap limit, as Node sized it | – | – | – |");
  });
});

describe('CPU steal in the report', () => {
  it('shows the share where it was read and a dash where it was not', () => {
    const machine = { ...latest.machine, cpuStealShare: 0.532 };
    expect(renderNumbers({ ...latest, machine })).toContain(
      '| CPU steal over the run (share of the busy time the hypervisor gave to others) | 53.2 % |',
    );
    const { cpuStealShare: _, ...withoutSteal } = machine;
    expect(renderNumbers({ ...latest, machine: withoutSteal })).toContain(
      '| CPU steal over the run (share of the busy time the hypervisor gave to others) | – |',
    );
  });
});
