import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderTimeline } from '../../src/cli/timeline/html.js';
import { kueueRun, kueueUpstream, timelineRun, timelineUpstream } from '../cli/timeline-fixture.js';
import { findChromium, launchChromium } from './browser.js';

const chromium = findChromium();
const SCREENSHOT = join(process.cwd(), '.ci', 'results', 'timeline.png');
const KUEUE_SCREENSHOT = join(process.cwd(), '.ci', 'results', 'timeline-kueue.png');
if (!chromium) {
  console.warn(
    'browser tests skipped: no Chromium found (install Debian\'s "chromium" package, or set CHROMIUM_PATH)',
  );
}

interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

describe.skipIf(!chromium)('the timeline in headless Chromium', () => {
  let session: Awaited<ReturnType<typeof launchChromium>>;
  let page: Page;
  /** The page of a run on a cluster with Kueue: queued segments, an infrastructure failure. */
  let kueuePage: Page;
  const problems: string[] = [];
  const requests: string[] = [];

  beforeAll(async () => {
    session = await launchChromium(chromium!);
    const browser: Browser = session.browser;
    const dir = mkdtempSync(join(tmpdir(), 'k8s-executor-timeline-'));
    const open = async (name: string, html: string) => {
      const opened = await browser.newPage();
      opened.on('pageerror', (error) => problems.push(`pageerror: ${String(error)}`));
      opened.on('console', (message) => {
        if (message.type() === 'error') problems.push(`console: ${message.text()}`);
      });
      opened.on('request', (request) => requests.push(request.url()));
      const file = join(dir, name);
      writeFileSync(file, html);
      await opened.goto(pathToFileURL(file).href, { waitUntil: 'load' });
      return opened;
    };
    page = await open('timeline.html', renderTimeline(timelineRun, { upstream: timelineUpstream }));
    kueuePage = await open('kueue.html', renderTimeline(kueueRun, { upstream: kueueUpstream }));
  }, 60_000);

  afterAll(async () => {
    mkdirSync(join(process.cwd(), '.ci', 'results'), { recursive: true });
    // A background tab paints no frame to capture: each page is brought to the front first.
    for (const [shown, path] of [
      [page, SCREENSHOT],
      [kueuePage, KUEUE_SCREENSHOT],
    ] as const) {
      if (!shown) continue;
      await shown.bringToFront();
      await shown.screenshot({ path, fullPage: true });
    }
    await session?.close();
  });

  const text = (selector: string) => page.$eval(selector, (el) => el.textContent);
  const box = (selector: string): Promise<Box> =>
    page.$eval(selector, (el) => {
      const r = el.getBoundingClientRect();
      return { x: r.x, y: r.y, width: r.width, height: r.height };
    });

  it('loads with no script error and no request beyond the file itself', () => {
    expect(problems).toEqual([]);
    expect(requests.every((url) => url.startsWith('file:'))).toBe(true);
  });

  it('puts a summary above the chart: totals, the slowest block, the critical path, the failures', async () => {
    expect(await text('h1')).toMatch(/etl_nightly\s+failed/);
    expect(await text('[data-stat="wall time"]')).toContain('1 m 15 s');
    expect(await text('[data-stat="blocks"]')).toMatch(/8[\s\S]*4 succeeded · 2 failed · 2 skipped/);
    expect(await text('[data-stat="attempts"]')).toMatch(/7[\s\S]*1 retry/);
    expect(await text('[data-stat="slowest block"]')).toMatch(/check_image[\s\S]*1 m 07 s/);
    expect(await text('[data-stat="critical path"]')).toContain('extract_orders → check_image');
    const failures = await page.$$eval('.failures li', (items) => items.map((li) => li.textContent));
    expect(failures).toEqual([
      expect.stringMatching(/^train_model OOM_KILLED .*memory limit/),
      expect.stringMatching(/^check_image IMAGE_PULL_FAILED .*could not pull image/),
    ]);
    expect((await box('.summary')).y + (await box('.summary')).height).toBeLessThan((await box('.chart')).y);
  });

  it('draws one bar per attempt, each at least 6 px wide, split into pending and running', async () => {
    const bars = await page.$$eval('.attempt', (els) =>
      els.map((el) => ({
        block: el.closest('.row')!.getAttribute('data-block'),
        attempt: el.getAttribute('data-attempt'),
        width: el.getBoundingClientRect().width,
        kinds: [...el.querySelectorAll('.seg')].map((s) => s.getAttribute('data-kind')),
      })),
    );
    expect(bars.map((b) => `${b.block}#${b.attempt}`)).toEqual([
      'extract_users#1',
      'extract_orders#1',
      'clean_users#1',
      'join_orders#1',
      'join_orders#2',
      'train_model#1',
      'check_image#1',
    ]);
    for (const bar of bars) expect(bar.width).toBeGreaterThanOrEqual(6);
    expect(bars.find((b) => b.block === 'extract_users')!.kinds).toEqual(['pending', 'running']);
    // The image never pulled: the whole attempt is pending, no running phase.
    expect(bars.find((b) => b.block === 'check_image')!.kinds).toEqual(['pending']);
    // Pending and running look different.
    const colours = await page.$eval('[data-block="extract_users"] .attempt', (el) =>
      [...el.querySelectorAll('.seg')].map(
        (s) =>
          s.ownerDocument.defaultView!.getComputedStyle(s).backgroundImage +
          s.ownerDocument.defaultView!.getComputedStyle(s).backgroundColor,
      ),
    );
    expect(new Set(colours).size).toBe(2);
  });

  it('writes each failed attempt’s reason under its bar, visible and not overlapping another label', async () => {
    const labels = await page.$$eval('.attempt-label', (els) =>
      els.map((el) => {
        const r = el.getBoundingClientRect();
        const lane = el.closest('.lane')!.getBoundingClientRect();
        return {
          block: el.closest('.row')!.getAttribute('data-block')!,
          text: el.textContent,
          box: { x: r.x, y: r.y, width: r.width, height: r.height },
          inside: r.left >= lane.left - 0.5 && r.right <= lane.right + 0.5,
          visible:
            el.ownerDocument.defaultView!.getComputedStyle(el).visibility === 'visible' &&
            r.width > 0 &&
            r.height > 0,
        };
      }),
    );
    const of = (block: string) => labels.filter((l) => l.block === block).map((l) => l.text);
    expect(of('join_orders')).toEqual(['#1 · EXIT_CODE 1 · 500 ms', '#2 · 5.4 s']);
    expect(of('train_model')).toEqual(['OOM_KILLED · 7.9 s']);
    expect(of('check_image')).toEqual(['IMAGE_PULL_FAILED · 1 m 07 s']);
    for (const label of labels) {
      expect(label.visible, label.text).toBe(true);
      expect(label.inside, label.text).toBe(true);
    }
    const overlaps = (a: Box, b: Box) =>
      a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
    for (const a of labels)
      for (const b of labels)
        if (a !== b) expect(overlaps(a.box, b.box), `${a.text} / ${b.text}`).toBe(false);
    // The fast failure's label sits under its own bar.
    const bar = await box('[data-block="join_orders"] .attempt[data-attempt="1"]');
    const label = labels.find((l) => l.text.startsWith('#1 · EXIT_CODE'))!;
    expect(label.box.y).toBeGreaterThanOrEqual(bar.y + bar.height);
    expect(Math.abs(label.box.x - bar.x)).toBeLessThan(2);
  });

  it('names the upstream block that stopped each skipped block', async () => {
    expect(await text('[data-block="revenue_report"] .idle-note')).toBe(
      'skipped: upstream train_model failed',
    );
    expect(await text('[data-block="notify"] .idle-note')).toBe(
      'skipped: upstream revenue_report was skipped',
    );
  });

  it("shows every block's name whole, the critical path's in bold after its mark", async () => {
    const cut = await page.$$eval('.row .label', (labels) =>
      labels.filter((l) => l.scrollWidth > l.clientWidth).map((l) => l.textContent),
    );
    expect(cut).toEqual([]);
  });

  it('marks the critical path', async () => {
    const critical = await page.$$eval('.row.critical', (rows) =>
      rows.map((r) => r.getAttribute('data-block')),
    );
    expect(critical).toEqual(['extract_orders', 'check_image']);
    expect(await text('[data-block="check_image"] .label')).toContain('◆');
    const outline = await page.$eval(
      '[data-block="check_image"] .attempt',
      (el) => el.ownerDocument.defaultView!.getComputedStyle(el).boxShadow,
    );
    expect(outline).not.toBe('none');
  });
  it('draws the time a Job was held by its queue as queued segments, distinct from pending and running', async () => {
    const kinds = await kueuePage.$eval('[data-block="train_gpu"] .attempt', (el) =>
      [...el.querySelectorAll('.seg')].map((s) => ({
        kind: s.getAttribute('data-kind'),
        width: s.getBoundingClientRect().width,
        look: `${el.ownerDocument.defaultView!.getComputedStyle(s).backgroundImage} ${el.ownerDocument.defaultView!.getComputedStyle(s).backgroundColor}`,
      })),
    );
    // Queued until admitted, pending, running, queued again when preempted, running after re-admission.
    expect(kinds.map((k) => k.kind)).toEqual(['queued', 'pending', 'running', 'queued', 'running']);
    for (const k of kinds) expect(k.width, k.kind ?? '').toBeGreaterThan(0);
    const look = (kind: string) => kinds.find((k) => k.kind === kind)!.look;
    expect(new Set([look('queued'), look('pending'), look('running')]).size).toBe(3);
    // Lengths in proportion: 20 s queued is ten times the 2 s pending.
    expect(kinds[0]!.width / kinds[1]!.width).toBeCloseTo(10, 0);
    const queuedLegend = await kueuePage.$eval('[data-legend="queued"]', (el) => el.textContent);
    expect(queuedLegend).toMatch(/queued/);
    expect(await kueuePage.$eval('[data-stat="queued / pending / running"]', (el) => el.textContent)).toMatch(
      /35 s \/ 5\.0 s \/ 59 s/,
    );
    expect(await kueuePage.$eval('[data-block="train_gpu"] .attempt-label', (el) => el.textContent)).toBe(
      'queued 35 s · 1 m 10 s',
    );
  });

  it('marks an attempt that failed for an infrastructure reason and writes the cause under its bar', async () => {
    const bars = await kueuePage.$$eval('[data-block="load"] .attempt', (els) =>
      els.map((el) => ({
        attempt: el.getAttribute('data-attempt'),
        infrastructure: el.getAttribute('data-infrastructure'),
        outline: el.ownerDocument.defaultView!.getComputedStyle(el).outlineStyle,
        box: (({ x, y, width, height }) => ({ x, y, width, height }))(el.getBoundingClientRect()),
      })),
    );
    expect(bars.map((b) => [b.attempt, b.infrastructure, b.outline])).toEqual([
      ['1', 'Evicted', 'dashed'],
      ['2', null, 'none'],
    ]);
    const labels = await kueuePage.$$eval('[data-block="load"] .attempt-label', (els) =>
      els.map((el) => ({
        text: el.textContent,
        marked: el.querySelector('.infra-mark') !== null,
        box: (({ x, y, width, height }) => ({ x, y, width, height }))(el.getBoundingClientRect()),
        visible:
          el.ownerDocument.defaultView!.getComputedStyle(el).visibility === 'visible' &&
          el.getBoundingClientRect().width > 0,
      })),
    );
    expect(labels.map((l) => [l.text, l.marked])).toEqual([
      ['⚡#1 · EVICTED · infrastructure: evicted · 7.0 s', true],
      ['#2 · 12 s', false],
    ]);
    const [first, second] = labels as [(typeof labels)[0], (typeof labels)[0]];
    for (const l of labels) expect(l.visible, l.text ?? '').toBe(true);
    // Under its own bar, and clear of the next attempt's label.
    expect(first.box.y).toBeGreaterThanOrEqual(bars[0]!.box.y + bars[0]!.box.height);
    const apart =
      first.box.x + first.box.width <= second.box.x || first.box.y + first.box.height <= second.box.y;
    expect(apart).toBe(true);
    const hover = await kueuePage.$eval('[data-block="load"] .attempt[data-attempt="1"]', (el) =>
      el.getAttribute('title'),
    );
    expect(hover).toContain(
      'infrastructure: pod mage-data-prep-block-2-load-x7k2p evicted (podReason Evicted',
    );
    expect(await kueuePage.$eval('[data-legend="infrastructure"]', (el) => el.textContent)).toMatch(
      /infrastructure reason/,
    );
    expect(await kueuePage.$eval('[data-stat="attempts"]', (el) => el.textContent)).toMatch(
      /4[\s\S]*1 retry \(1 infrastructure\)/,
    );
  });
});
