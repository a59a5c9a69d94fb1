import { describe, expect, it } from 'vitest';
import { ProgressView, useColor } from '../../src/cli/progress.js';
import type { PipelineEvent } from '../../src/executor/pipeline-types.js';

function view(isTTY: boolean, color = false) {
  let text = '';
  const write = (chunk: string) => {
    text += chunk;
    return true;
  };
  const out = { isTTY, write } as unknown as NodeJS.WriteStream;
  const progress = new ProgressView(out, ['load', 'report'], () => 0, { color });
  return { progress, text: () => text };
}

const status = (blockUuid: string, s: string, attempt = 1, message?: string): PipelineEvent =>
  ({
    type: 'block-status',
    blockUuid,
    status: s,
    attempt,
    at: 0,
    ...(message ? { message } : {}),
  }) as PipelineEvent;

describe('plain progress (not a terminal)', () => {
  it('never steps back from running to pending within an attempt', () => {
    const { progress, text } = view(false);
    for (const s of ['submitted', 'pending', 'running', 'pending', 'succeeded'])
      progress.onEvent(status('load', s));
    expect(text()).toBe('load: submitted\nload: pending\nload: running\nload: succeeded\n');
  });

  it('prints a retry as one line, with the failure, and the next attempt from its start', () => {
    const { progress, text } = view(false);
    progress.onEvent(status('load', 'running'));
    progress.onEvent(status('load', 'pending'));
    progress.onEvent(status('load', 'retrying', 2, 'Container exited with code 1.'));
    progress.onEvent({ type: 'retry-scheduled', blockUuid: 'load', nextAttempt: 2, delayMs: 1000, at: 0 });
    progress.onEvent(status('load', 'submitted', 2));
    progress.onEvent(status('load', 'pending', 2));
    expect(text()).toBe(
      'load: running\nload: attempt 1 failed, retry 2 in 1.0 s — Container exited with code 1.\nload: submitted (attempt 2)\nload: pending (attempt 2)\n',
    );
  });

  it('shows queued apart from pending, and a preempted block queued again, then pending and running', () => {
    const { progress, text } = view(false);
    const steps = ['submitted', 'queued', 'pending', 'running', 'queued', 'pending', 'running', 'succeeded'];
    for (const s of steps) progress.onEvent(status('load', s));
    expect(text()).toBe(`${steps.map((s) => `load: ${s}`).join('\n')}\n`);
  });

  it('says a retry after an infrastructure failure is at once and does not count against retry_config', () => {
    const { progress, text } = view(false);
    progress.onEvent(status('load', 'running'));
    progress.onEvent(status('load', 'retrying', 2, 'Pod "p" was evicted by the kubelet: ...'));
    progress.onEvent({
      type: 'retry-scheduled',
      blockUuid: 'load',
      nextAttempt: 2,
      delayMs: 0,
      at: 0,
      infrastructure: {
        pod: 'p',
        source: 'podReason',
        reason: 'Evicted',
        message: 'The node was low on resource: memory.',
      },
    });
    progress.onEvent(status('load', 'running', 2));
    expect(text()).toBe(
      'load: running\nload: attempt 1 evicted (infrastructure), retry 2 at once — does not count against retry_config — Evicted: The node was low on resource: memory.\nload: running (attempt 2)\n',
    );
  });

  it('does not repeat the state in its message', () => {
    const { progress, text } = view(false);
    progress.onEvent(status('report', 'skipped', 1, 'Skipped: upstream block "load" did not succeed.'));
    expect(text()).toBe('report: skipped — upstream block "load" did not succeed.\n');
  });
});

describe('live progress (a terminal)', () => {
  it('colours states only when asked', () => {
    const plain = view(true, false);
    plain.progress.onEvent(status('load', 'running'));
    plain.progress.stop();
    expect(plain.text()).not.toContain('\x1b[36m');
    expect(plain.text()).toMatch(/load\s+running/);
    const coloured = view(true, true);
    coloured.progress.onEvent(status('load', 'running'));
    coloured.progress.stop();
    expect(coloured.text()).toContain('\x1b[36mrunning');
  });

  it('notes on the row of the next attempt that the previous one ended for an infrastructure reason', () => {
    const live = view(true);
    live.progress.onEvent(status('load', 'running'));
    live.progress.onEvent(status('load', 'retrying', 2, 'preempted'));
    live.progress.onEvent({
      type: 'retry-scheduled',
      blockUuid: 'load',
      nextAttempt: 2,
      delayMs: 0,
      at: 0,
      infrastructure: { pod: 'p', source: 'DisruptionTarget', reason: 'PreemptionByScheduler' },
    });
    live.progress.onEvent(status('load', 'running', 2));
    const lastFrame = () => live.text().split('\x1b[2A\x1b[0J').at(-1)!;
    expect(lastFrame()).toMatch(/load\s+running #2\s+after attempt 1 preempted \(infrastructure\)$/m);
    live.progress.onEvent(status('load', 'succeeded', 2));
    live.progress.stop();
    expect(lastFrame()).not.toContain('infrastructure');
    expect(lastFrame()).toMatch(/load\s+succeeded #2/);
  });

  it('colours only a terminal without NO_COLOR', () => {
    expect(useColor({ isTTY: true }, {})).toBe(true);
    expect(useColor({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(useColor({ isTTY: true }, { NO_COLOR: '' })).toBe(true);
    expect(useColor({ isTTY: false }, {})).toBe(false);
  });
});
