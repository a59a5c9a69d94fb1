// Tiny helpers shared by the demo blocks: arguments and a per-run data folder.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const argv = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : fallback;
};
export const attempt = Number(arg('attempt', '1'));
export const run = arg('run', 'manual');
const dir = join(process.env.DEMO_DATA_DIR ?? '.data', run);
mkdirSync(dir, { recursive: true });
export const save = (name, value) => writeFileSync(join(dir, `${name}.json`), JSON.stringify(value));
export const load = (name) => JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8'));
export const pause = (ms) => new Promise((r) => setTimeout(r, ms));
