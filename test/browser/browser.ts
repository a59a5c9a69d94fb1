import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser } from 'puppeteer-core';

/** Where a Chromium may be: `CHROMIUM_PATH` first, then Debian's and the usual names. */
const CANDIDATES = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
  '/usr/bin/google-chrome-stable',
];

/** The Chromium to test with, or undefined when this machine has none. */
export function findChromium(env: Record<string, string | undefined> = process.env): string | undefined {
  const given = env.CHROMIUM_PATH;
  if (given) return existsSync(given) ? given : undefined;
  return CANDIDATES.find((path) => existsSync(path));
}

/** Flags for a quiet, offline, throw-away headless Chromium (no GPU, no sync, no update checks). */
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** A headless Chromium with a fresh profile; `close()` also removes the profile. */
export async function launchChromium(
  executablePath: string,
): Promise<{ browser: Browser; close(): Promise<void> }> {
  const profile = mkdtempSync(join(tmpdir(), 'k8s-executor-chromium-'));
  const browser = await puppeteer.launch({
    executablePath,
    // Exactly these flags: puppeteer's defaults would add more (and a second --headless).
    ignoreDefaultArgs: true,
    args: [...FLAGS, `--user-data-dir=${profile}`, '--window-size=1400,900'],
    defaultViewport: { width: 1400, height: 900 },
  });
  return {
    browser,
    async close() {
      await browser.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
