import { describe, expect, it } from 'vitest';
import { renderTimeline } from '../../src/cli/timeline/html.js';
import {
  attemptLabel,
  attemptSegments,
  criticalPath,
  formatDuration,
  idleNote,
  summarize,
} from '../../src/cli/timeline/model.js';
import type { AttemptRecord } from '../../src/executor/pipeline-types.js';
import { kueueRun, timelineRun, timelineUpstream } from './timeline-fixture.js';

const attempt = (over: Partial<AttemptRecord>): AttemptRecord => ({
  attempt: 1,
  status: 'succeeded',
  startedAt: 1000,
  finishedAt: 5000,
  ...over,
});

describe('attempt segments', () => {
  it('splits an attempt into pending (submitted, no container) and running', () => {
    expect(attemptSegments(attempt({ runningAt: 1500 }), 'k8s')).toEqual([
      { kind: 'pending', from: 1000, to: 1500 },
      { kind: 'running', from: 1500, to: 5000 },
    ]);
  });

  it('is all pending when no container ever ran, all running when the start was not seen but it ran', () => {
    expect(attemptSegments(attempt({ status: 'failed', reason: 'IMAGE_PULL_FAILED' }), 'k8s')).toEqual([
      { kind: 'pending', from: 1000, to: 5000 },
    ]);
    expect(attemptSegments(attempt({}), 'k8s')).toEqual([{ kind: 'running', from: 1000, to: 5000 }]);
    expect(attemptSegments(attempt({ status: 'failed', exitCode: 2 }), 'k8s')).toEqual([
      { kind: 'running', from: 1000, to: 5000 },
    ]);
    expect(attemptSegments(attempt({ status: 'failed' }), 'local')).toEqual([
      { kind: 'running', from: 1000, to: 5000 },
    ]);
  });

  it('puts the queued phase first for a Job held by its queue, and clamps times into the attempt', () => {
    expect(attemptSegments(attempt({ runningAt: 3000, queued: [{ from: 1000, to: 2000 }] }), 'k8s')).toEqual([
      { kind: 'queued', from: 1000, to: 2000 },
      { kind: 'pending', from: 2000, to: 3000 },
      { kind: 'running', from: 3000, to: 5000 },
    ]);
    expect(attemptSegments(attempt({ runningAt: 9000 }), 'k8s')).toEqual([
      { kind: 'pending', from: 1000, to: 5000 },
    ]);
    // Seen suspended a few ms after the create; queued until the end (failed at the suspended bound).
    expect(
      attemptSegments(
        attempt({ status: 'failed', reason: 'UNSCHEDULABLE', queued: [{ from: 1004, to: 9000 }] }),
        'k8s',
      ),
    ).toEqual([
      { kind: 'pending', from: 1000, to: 1004 },
      { kind: 'queued', from: 1004, to: 5000 },
    ]);
  });

  it('queues a preempted attempt again; after its re-admission it counts as running, as a retried pod', () => {
    const preempted = attempt({
      runningAt: 1500,
      finishedAt: 9000,
      queued: [
        { from: 1000, to: 1200 },
        { from: 4000, to: 6000 },
      ],
    });
    expect(attemptSegments(preempted, 'k8s')).toEqual([
      { kind: 'queued', from: 1000, to: 1200 },
      { kind: 'pending', from: 1200, to: 1500 },
      { kind: 'running', from: 1500, to: 4000 },
      { kind: 'queued', from: 4000, to: 6000 },
      { kind: 'running', from: 6000, to: 9000 },
    ]);
    // A start that was not seen: all running outside the queue.
    expect(attemptSegments({ ...preempted, runningAt: undefined } as AttemptRecord, 'k8s')).toEqual([
      { kind: 'queued', from: 1000, to: 1200 },
      { kind: 'running', from: 1200, to: 4000 },
      { kind: 'queued', from: 4000, to: 6000 },
      { kind: 'running', from: 6000, to: 9000 },
    ]);
  });

  it('gives a zero-length attempt one segment, so it still gets a bar', () => {
    expect(attemptSegments(attempt({ finishedAt: 1000, status: 'failed' }), 'k8s')).toEqual([
      { kind: 'pending', from: 1000, to: 1000 },
    ]);
  });
});

describe('critical path', () => {
  it('walks back from the block that finished last through the upstream it waited for', () => {
    expect(criticalPath(timelineRun, timelineUpstream)).toEqual(['extract_orders', 'check_image']);
    const withoutCheck = {
      ...timelineRun,
      blocks: timelineRun.blocks.filter((b) => b.uuid !== 'check_image'),
    };
    expect(criticalPath(withoutCheck, timelineUpstream)).toEqual([
      'extract_users',
      'clean_users',
      'join_orders',
      'train_model',
    ]);
  });

  it('is empty when nothing ran', () => {
    expect(criticalPath({ ...timelineRun, blocks: timelineRun.blocks.slice(6) }, timelineUpstream)).toEqual(
      [],
    );
  });
});

describe('summary and labels', () => {
  it('totals the run', () => {
    const s = summarize(timelineRun);
    expect(s).toMatchObject({
      wallMs: 75_000,
      counts: { succeeded: 4, failed: 2, skipped: 2 },
      attempts: 7,
      retries: 1,
      slowest: { uuid: 'check_image', ms: 67_000 },
    });
    expect(s.failures.map((f) => [f.uuid, f.reason])).toEqual([
      ['train_model', 'OOM_KILLED'],
      ['check_image', 'IMAGE_PULL_FAILED'],
    ]);
    expect(s.pendingMs + s.runningMs).toBe(
      timelineRun.blocks.flatMap((b) => b.attempts).reduce((sum, a) => sum + a.finishedAt - a.startedAt, 0),
    );
  });

  it('labels attempts with their number when retried, their reason, and their length', () => {
    const join = timelineRun.blocks.find((b) => b.uuid === 'join_orders')!;
    expect(join.attempts.map((a) => attemptLabel(a, 2))).toEqual(['#1 · EXIT_CODE 1 · 500 ms', '#2 · 5.4 s']);
    expect(attemptLabel(attempt({ status: 'cancelled' }), 1)).toBe('CANCELLED · 4.0 s');
  });

  it('labels what the cluster did to an infrastructure failure, and the time queued', () => {
    const [evicted, retried] = kueueRun.blocks.find((b) => b.uuid === 'load')!.attempts;
    expect(attemptLabel(evicted!, 2)).toBe('#1 · EVICTED · infrastructure: evicted · 7.0 s');
    expect(attemptLabel(retried!, 2)).toBe('#2 · 12 s');
    const [train] = kueueRun.blocks.find((b) => b.uuid === 'train_gpu')!.attempts;
    expect(attemptLabel(train!, 1)).toBe('queued 35 s · 1 m 10 s');
  });

  it('counts the time queued apart from pending, and the infrastructure failures', () => {
    const s = summarize(kueueRun);
    expect(s).toMatchObject({ queuedMs: 35_000, pendingMs: 5000, infrastructureFailures: 1, retries: 1 });
    expect(s.queuedMs + s.pendingMs + s.runningMs).toBe(
      kueueRun.blocks.flatMap((b) => b.attempts).reduce((sum, a) => sum + a.finishedAt - a.startedAt, 0),
    );
    expect(summarize(timelineRun).queuedMs).toBe(0);
  });

  it('names the blocking upstream of a skipped block', () => {
    const [report, notify] = timelineRun.blocks.slice(6);
    expect(idleNote(report!, timelineRun)).toBe('skipped: upstream train_model failed');
    expect(idleNote(notify!, timelineRun)).toBe('skipped: upstream revenue_report was skipped');
  });

  it('formats durations', () => {
    expect([850, 2000, 12_300, 185_000].map(formatDuration)).toEqual(['850 ms', '2.0 s', '12 s', '3 m 05 s']);
  });
});

describe('timeline page', () => {
  it('marks the critical path only when it knows the DAG', () => {
    expect(renderTimeline(timelineRun, { upstream: timelineUpstream })).toContain('class="row critical');
    expect(renderTimeline(timelineRun)).not.toContain('class="row critical');
  });

  it('marks infrastructure failures and draws queued segments, with their legend, only when there are some', () => {
    const page = renderTimeline(kueueRun);
    expect(page).toMatch(
      /class="attempt failed infrastructure" data-attempt="1"[^>]*data-infrastructure="Evicted"/,
    );
    expect(page).toContain('data-kind="queued"');
    expect(page).toContain('data-legend="queued"');
    expect(page).toContain('data-legend="infrastructure"');
    expect(page).toContain('data-stat="queued / pending / running"');
    const plain = renderTimeline(timelineRun);
    for (const absent of ['data-legend="queued"', 'data-legend="infrastructure"', 'data-kind="queued"'])
      expect(plain).not.toContain(absent);
    expect(plain).toContain('data-stat="pending / running"');
  });

  it('gives every attempt at least the minimum width and keeps it inside the chart', () => {
    const widths = [
      ...renderTimeline(timelineRun).matchAll(
        /class="attempt [^"]*"[^>]*style="left:([\d.]+)px;width:([\d.]+)px"/g,
      ),
    ];
    expect(widths).toHaveLength(7);
    for (const [, left, width] of widths) {
      expect(Number(width)).toBeGreaterThanOrEqual(6);
      expect(Number(left) + Number(width)).toBeLessThanOrEqual(960.1);
    }
  });
});
