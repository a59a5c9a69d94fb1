import type { BlockOutcome, PipelineResult } from '../../executor/pipeline-types.js';
import { infrastructureEvent } from '../../monitor/job-outcome.js';
import { plural } from '../words.js';
import {
  attemptLabel,
  attemptSegments,
  criticalPath,
  formatDuration,
  idleNote,
  type RunSummary,
  summarize,
} from './model.js';

/** What the timeline needs besides the result. */
export interface TimelineOptions {
  /** Each block's upstream blocks (the pipeline's DAG), for the critical path; without it none is marked. */
  upstream?: Readonly<Record<string, readonly string[]>>;
}

const CHART_WIDTH = 960;
const AXIS_HEIGHT = 26;
const BAR_TOP = 6;
const BAR_HEIGHT = 16;
const LINE_HEIGHT = 14;
/** A failed attempt of a few milliseconds is still a bar one can see and point at. */
const MIN_BAR_WIDTH = 6;
/** Width of a character of the 11 px monospace labels (0.6 em, with a margin), to keep labels of one line apart. */
const CHAR_WIDTH = 6.9;

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#1d1d1f;background:#fff}
h1{font-size:20px;margin:0 0 4px}h2{font-size:15px;margin:16px 0 6px}
.meta{color:#666;margin:0 0 16px}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:13px;color:#fff;vertical-align:2px}
.badge.succeeded{background:#2e9d57}.badge.failed{background:#d64545}.badge.cancelled{background:#8c8c8c}
.summary{display:flex;flex-wrap:wrap;gap:10px;margin-bottom:8px}
.stat{border:1px solid #e2e2e2;border-radius:6px;padding:6px 12px;min-width:110px}
.stat .k{display:block;font-size:11px;text-transform:uppercase;letter-spacing:.04em;color:#777}
.stat .v{display:block;font-size:16px;font-weight:600}.stat .d{display:block;font-size:12px;color:#555}
.failures ul{margin:0;padding-left:18px}.failures li{margin:2px 0}
code{font:12px ui-monospace,monospace;background:#f3f3f3;padding:0 4px;border-radius:3px}
.failures code{color:#b02a2a;font-weight:600}
.chart{position:relative;margin-top:16px}
.tick{position:absolute;top:6px;font-size:11px;color:#777;transform:translateX(-50%);white-space:nowrap}
.grid{position:absolute;top:${AXIS_HEIGHT}px;bottom:0;width:1px;background:#ececec}
.row{position:absolute;left:0;border-top:1px solid #f1f1f1}
.row .label{position:absolute;left:0;top:${BAR_TOP}px;font-size:13px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.row.critical .label{font-weight:600}
.cp-mark{color:#1f3b73;margin-right:4px}
.lane{position:absolute;top:0;bottom:0}
.attempt{position:absolute;top:${BAR_TOP}px;height:${BAR_HEIGHT}px;display:flex;border-radius:3px;overflow:hidden}
.attempt.earlier{opacity:.45}
.attempt.critical{box-shadow:0 0 0 2px #1f3b73}
.seg{height:100%;min-width:0}
.seg.running.succeeded{background:#2e9d57}.seg.running.failed{background:#d64545}.seg.running.cancelled{background:#8c8c8c}
.seg.pending.succeeded{background:repeating-linear-gradient(135deg,#a9dcbb 0 4px,#d6efdf 4px 8px)}
.seg.pending.failed{background:repeating-linear-gradient(135deg,#f0aaaa 0 4px,#f9d8d8 4px 8px)}
.seg.pending.cancelled{background:repeating-linear-gradient(135deg,#cfcfcf 0 4px,#e8e8e8 4px 8px)}
.seg.queued{background:repeating-linear-gradient(90deg,#7d8fb0 0 2px,#e3e8f1 2px 5px)}
.attempt.infrastructure{outline:2px dashed #c76d00;outline-offset:1px}
.infra-mark{color:#c76d00;margin-right:3px}
.attempt-label{position:absolute;font:11px/13px ui-monospace,'DejaVu Sans Mono',Menlo,Consolas,monospace;white-space:nowrap;color:#444}
.attempt-label.failed,.attempt-label.cancelled{font-weight:600}
.attempt-label.failed{color:#b02a2a}.attempt-label.cancelled{color:#666}
.attempt-label.infrastructure{color:#9a5400}
.idle-note{position:absolute;top:${BAR_TOP}px;font-size:12px;color:#777;font-style:italic;white-space:nowrap}
.legend{display:flex;flex-wrap:wrap;gap:16px;margin-top:14px;font-size:12px;color:#444}
.legend span{display:inline-flex;align-items:center;gap:6px}
.legend i{display:inline-block;width:22px;height:12px;border-radius:2px}
`;

/**
 * A self-contained HTML page (no script, no external resource) that a person reads without hovering:
 * a summary (totals, slowest block, failures, critical path) above a chart with one row per block and
 * one bar per attempt, split into its queued, pending and running phases, coloured by outcome; each
 * attempt's reason code and length are written under its bar (with what the cluster did to its pod
 * when it failed for an infrastructure reason: such a bar has a dashed outline and its label a `⚡`),
 * a skipped block names the upstream block that stopped it, and the blocks of the critical path are
 * outlined. Hovering adds the Job name and times.
 */
export function renderTimeline(result: PipelineResult, options: TimelineOptions = {}): string {
  const stats = summarize(result);
  const path = options.upstream ? criticalPath(result, options.upstream) : [];
  const onPath = new Set(path);
  const span = Math.max(1, result.finishedAt - result.startedAt);
  const x = (t: number) => ((t - result.startedAt) / span) * CHART_WIDTH;
  // Room for the longest name in bold, after the critical-path mark.
  const labelWidth = Math.min(
    360,
    Math.max(120, Math.max(...result.blocks.map((b) => b.uuid.length)) * 8.2 + 44),
  );
  const rows: string[] = [];
  let top = AXIS_HEIGHT;
  for (const block of result.blocks) {
    const row = renderRow(block, result, x, onPath.has(block.uuid));
    rows.push(
      `<div class="row${onPath.has(block.uuid) ? ' critical' : ''} ${block.status}" data-block="${escapeHtml(block.uuid)}" data-status="${block.status}" style="top:${top}px;height:${row.height}px;width:${labelWidth + CHART_WIDTH}px">` +
        `<div class="label" style="width:${labelWidth - 12}px" title="${escapeHtml(block.uuid)}">${onPath.has(block.uuid) ? '<span class="cp-mark" title="on the critical path">◆</span>' : ''}${escapeHtml(block.uuid)}</div>` +
        `<div class="lane" style="left:${labelWidth}px;width:${CHART_WIDTH}px">${row.html}</div></div>`,
    );
    top += row.height;
  }
  const step = niceStep(span / 8);
  const ticks: string[] = [];
  for (let t = 0; t <= span; t += step) {
    const left = labelWidth + x(result.startedAt + t);
    ticks.push(
      `<span class="tick" style="left:${px(left)}">${t === 0 ? '0 s' : formatDuration(t)}</span>`,
      `<div class="grid" style="left:${px(left)}"></div>`,
    );
  }
  const title = `Pipeline ${result.pipelineUuid} run ${result.pipelineRunId}: ${result.status}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body>
<h1>Pipeline ${escapeHtml(result.pipelineUuid)} <span class="badge ${result.status}">${result.status}</span></h1>
<p class="meta">run ${escapeHtml(result.pipelineRunId)} · mode ${result.mode} · started ${new Date(
    result.startedAt,
  )
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, ' UTC')}</p>
${renderSummary(stats, path, result)}
<div class="chart" style="width:${labelWidth + CHART_WIDTH}px;height:${top}px">${ticks.join('')}${rows.join('\n')}</div>
${renderLegend(result, path.length > 0)}
</body></html>
`;
}

function renderRow(
  block: BlockOutcome,
  result: PipelineResult,
  x: (t: number) => number,
  critical: boolean,
): { html: string; height: number } {
  if (block.attempts.length === 0) {
    const note = idleNote(block, result);
    const blocker = result.blocks.find((b) => b.uuid === block.blockedBy);
    const at = blocker?.finishedAt !== undefined ? x(blocker.finishedAt) : 0;
    const left = Math.max(0, Math.min(at + 4, CHART_WIDTH - textWidth(note, 6.8)));
    return {
      html: `<span class="idle-note" style="left:${px(left)}">${escapeHtml(note)}</span>`,
      height: BAR_TOP * 2 + BAR_HEIGHT,
    };
  }
  const parts: string[] = [];
  const lineEnds: number[] = [];
  for (const attempt of block.attempts) {
    const start = Math.min(x(attempt.startedAt), CHART_WIDTH - MIN_BAR_WIDTH);
    const width = Math.max(MIN_BAR_WIDTH, x(attempt.finishedAt) - start);
    const segments = attemptSegments(attempt, block.executor)
      .map(
        (s) =>
          `<div class="seg ${s.kind} ${attempt.status}" data-kind="${s.kind}" style="flex:${Math.max(1, s.to - s.from)} 1 0" title="${s.kind} ${formatDuration(s.to - s.from)}"></div>`,
      )
      .join('');
    const cause = attempt.infrastructure;
    const hover = [
      `${block.uuid} attempt ${attempt.attempt}: ${attempt.status}${attempt.reason ? ` (${attempt.reason})` : ''}`,
      ...(attempt.jobName ? [`Job ${attempt.jobName}`] : []),
      `${formatDuration(attempt.startedAt - result.startedAt)} → ${formatDuration(attempt.finishedAt - result.startedAt)}`,
      ...(attempt.queuedMs ? [`queued ${formatDuration(attempt.queuedMs)} (held by its queue)`] : []),
      ...(cause
        ? [
            `infrastructure: pod ${cause.pod} ${infrastructureEvent(cause)} (${cause.source} ${cause.reason}${cause.message ? `: ${cause.message}` : ''})`,
          ]
        : []),
      ...(attempt.message ? [attempt.message] : []),
    ].join('\n');
    const classes = [
      'attempt',
      attempt.status,
      ...(cause ? ['infrastructure'] : []),
      ...(attempt.fromEarlierRun ? ['earlier'] : []),
      ...(critical ? ['critical'] : []),
    ];
    const data = [
      `data-attempt="${attempt.attempt}"`,
      `data-status="${attempt.status}"`,
      ...(attempt.reason ? [`data-reason="${attempt.reason}"`] : []),
      ...(cause ? [`data-infrastructure="${escapeHtml(cause.reason)}"`] : []),
    ].join(' ');
    parts.push(
      `<div class="${classes.join(' ')}" ${data} style="left:${px(start)};width:${px(width)}" title="${escapeHtml(hover)}">${segments}</div>`,
    );
    // Labels go under the bar, on the first line where they do not run into the previous one.
    const label = attemptLabel(attempt, block.attempts.length);
    const mark = cause ? '<span class="infra-mark">⚡</span>' : '';
    const labelWidth = textWidth(label, CHAR_WIDTH) + (cause ? 2 * CHAR_WIDTH : 0);
    const left = Math.max(0, Math.min(start, CHART_WIDTH - labelWidth));
    let line = lineEnds.findIndex((end) => end + 8 <= left);
    if (line === -1) line = lineEnds.push(0) - 1;
    lineEnds[line] = left + labelWidth;
    const y = BAR_TOP + BAR_HEIGHT + 2 + line * LINE_HEIGHT;
    parts.push(
      `<span class="attempt-label ${attempt.status}${cause ? ' infrastructure' : ''}" data-attempt="${attempt.attempt}" style="left:${px(left)};top:${y}px">${mark}${escapeHtml(label)}</span>`,
    );
  }
  return { html: parts.join(''), height: BAR_TOP + BAR_HEIGHT + 6 + lineEnds.length * LINE_HEIGHT };
}

function renderSummary(stats: RunSummary, path: string[], result: PipelineResult): string {
  const counts = (['succeeded', 'failed', 'skipped', 'cancelled'] as const)
    .filter((s) => stats.counts[s])
    .map((s) => `${stats.counts[s]} ${s}`)
    .join(' · ');
  const stat = (key: string, value: string, detail?: string) =>
    `<div class="stat" data-stat="${escapeHtml(key.toLowerCase())}"><span class="k">${escapeHtml(key)}</span><span class="v">${escapeHtml(value)}</span>${detail ? `<span class="d">${escapeHtml(detail)}</span>` : ''}</div>`;
  const byUuid = new Map(result.blocks.map((b) => [b.uuid, b]));
  const pathSpan =
    path.length > 0
      ? (byUuid.get(path.at(-1)!)?.finishedAt ?? 0) - (byUuid.get(path[0]!)?.startedAt ?? 0)
      : 0;
  const cards = [
    stat('Wall time', formatDuration(stats.wallMs)),
    stat('Blocks', String(result.blocks.length), counts),
    stat(
      'Attempts',
      String(stats.attempts),
      stats.retries > 0
        ? `${plural(stats.retries, 'retry', 'retries')}${stats.infrastructureFailures > 0 ? ` (${stats.infrastructureFailures} infrastructure)` : ''}`
        : 'no retry',
    ),
    stats.queuedMs > 0
      ? stat(
          'Queued / pending / running',
          `${formatDuration(stats.queuedMs)} / ${formatDuration(stats.pendingMs)} / ${formatDuration(stats.runningMs)}`,
          'summed over attempts',
        )
      : stat(
          'Pending / running',
          `${formatDuration(stats.pendingMs)} / ${formatDuration(stats.runningMs)}`,
          'summed over attempts',
        ),
    ...(stats.slowest ? [stat('Slowest block', stats.slowest.uuid, formatDuration(stats.slowest.ms))] : []),
    ...(path.length > 0 ? [stat('Critical path', path.join(' → '), formatDuration(pathSpan))] : []),
  ];
  const failures =
    stats.failures.length > 0
      ? `<section class="failures"><h2>Failures</h2><ul>${stats.failures
          .map(
            (f) =>
              `<li data-block="${escapeHtml(f.uuid)}"><b>${escapeHtml(f.uuid)}</b> <code>${f.reason}</code> ${escapeHtml(f.message.length > 300 ? `${f.message.slice(0, 299)}…` : f.message)}</li>`,
          )
          .join('')}</ul></section>`
      : '';
  return `<section class="summary" aria-label="summary">${cards.join('')}</section>${failures}`;
}

function renderLegend(result: PipelineResult, critical: boolean): string {
  const attempts = result.blocks.flatMap((b) => b.attempts);
  const statuses = new Set(attempts.map((a) => a.status));
  const items = [
    ...(attempts.some((a) => a.queuedMs)
      ? ['<span data-legend="queued"><i class="seg queued"></i>queued (suspended, held by its queue)</span>']
      : []),
    '<span><i class="seg running succeeded"></i>running</span>',
    '<span><i class="seg pending succeeded"></i>pending (submitted, no container yet)</span>',
    ...(['failed', 'cancelled'] as const)
      .filter((s) => statuses.has(s))
      .map((s) => `<span><i class="seg running ${s}"></i>${s} attempt</span>`),
    ...(attempts.some((a) => a.infrastructure)
      ? [
          '<span data-legend="infrastructure"><i style="outline:2px dashed #c76d00;outline-offset:-2px"></i>⚡ failed for an infrastructure reason (preempted, evicted, node lost)</span>',
        ]
      : []),
    ...(critical ? ['<span><i style="box-shadow:0 0 0 2px #1f3b73"></i>critical path</span>'] : []),
  ];
  return `<div class="legend">${items.join('')}</div>`;
}

function textWidth(text: string, charWidth: number): number {
  return Math.ceil(text.length * charWidth) + 4;
}

function px(n: number): string {
  return `${Math.round(n * 10) / 10}px`;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function niceStep(raw: number): number {
  const steps = [
    100, 250, 500, 1000, 2000, 5000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 1_800_000,
    3_600_000,
  ];
  return steps.find((s) => s >= raw) ?? 3_600_000;
}
