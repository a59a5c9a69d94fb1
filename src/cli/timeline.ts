import type { PipelineResult } from '../executor/pipeline-types.js';

const FILL = { succeeded: '#2e9d57', failed: '#d64545', cancelled: '#9a9a9a' } as const;

function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * A self-contained HTML page with an SVG Gantt chart of a pipeline run: one row per block, one bar
 * per attempt (so retries are visible), coloured by outcome, with a time axis; hovering a bar shows
 * its Job, times and reason.
 */
export function renderTimeline(result: PipelineResult): string {
  const start = result.startedAt;
  const span = Math.max(1, result.finishedAt - start);
  const label = Math.max(...result.blocks.map((b) => b.uuid.length), 8) * 7.5 + 24;
  const chart = 900;
  const rowH = 28;
  const top = 40;
  const height = top + result.blocks.length * rowH + 30;
  const x = (t: number) => label + ((t - start) / span) * chart;
  const parts: string[] = [];
  const step = niceStep(span / 8);
  for (let t = 0; t <= span; t += step) {
    parts.push(
      `<line x1="${x(start + t)}" y1="${top - 8}" x2="${x(start + t)}" y2="${height - 24}" stroke="#e4e4e4"/>`,
      `<text x="${x(start + t)}" y="${top - 14}" font-size="11" text-anchor="middle" fill="#666">${formatSeconds(t)}</text>`,
    );
  }
  result.blocks.forEach((block, i) => {
    const y = top + i * rowH;
    parts.push(`<text x="8" y="${y + 18}" font-size="13" fill="#222">${escapeXml(block.uuid)}</text>`);
    if (block.status === 'skipped' || block.attempts.length === 0) {
      parts.push(
        `<text x="${label}" y="${y + 18}" font-size="12" fill="#888">${escapeXml(block.status)}${block.message ? ` — ${escapeXml(block.message)}` : ''}</text>`,
      );
      return;
    }
    for (const a of block.attempts) {
      const x0 = x(a.startedAt);
      const w = Math.max(2, x(a.finishedAt) - x0);
      const title = `${block.uuid} attempt ${a.attempt}: ${a.status}${a.reason ? ` (${a.reason})` : ''}${a.jobName ? `\nJob ${a.jobName}` : ''}\n${formatSeconds(a.startedAt - start)} → ${formatSeconds(a.finishedAt - start)}${a.message ? `\n${a.message}` : ''}`;
      parts.push(
        `<rect x="${x0}" y="${y + 5}" width="${w}" height="${rowH - 10}" rx="3" fill="${FILL[a.status]}"${a.fromEarlierRun ? ' fill-opacity="0.45"' : ''}><title>${escapeXml(title)}</title></rect>`,
      );
      if (w > 24)
        parts.push(`<text x="${x0 + 4}" y="${y + 18}" font-size="11" fill="#fff">#${a.attempt}</text>`);
    }
  });
  const legend = Object.entries(FILL)
    .map(
      ([k, c], i) =>
        `<rect x="${label + i * 110}" y="${height - 18}" width="12" height="12" fill="${c}"/><text x="${label + i * 110 + 16}" y="${height - 8}" font-size="12">${k}</text>`,
    )
    .join('');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${label + chart + 30}" height="${height}" font-family="system-ui, sans-serif">${parts.join('')}${legend}</svg>`;
  const title = `Pipeline ${escapeXml(result.pipelineUuid)} run ${escapeXml(result.pipelineRunId)}: ${result.status}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${title}</title>
<style>body{font-family:system-ui,sans-serif;margin:24px;color:#222}h1{font-size:18px}p{color:#555}</style></head>
<body><h1>${title}</h1>
<p>${result.blocks.length} blocks, ${formatSeconds(span)} wall time, mode ${result.mode}. Bars are attempts; hover for details.</p>
${svg}
</body></html>
`;
}

function niceStep(raw: number): number {
  const steps = [
    100, 250, 500, 1000, 2000, 5000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 1_800_000,
    3_600_000,
  ];
  return steps.find((s) => s >= raw) ?? 3_600_000;
}

function formatSeconds(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  return `${Math.floor(ms / 60_000)} m ${Math.round((ms % 60_000) / 1000)} s`;
}
