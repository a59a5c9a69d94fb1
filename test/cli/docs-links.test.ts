import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const pages = [
  'README.md',
  'CHANGELOG.md',
  ...readdirSync(join(root, 'docs')).map((f) => `docs/${f}`),
].filter((f) => f.endsWith('.md'));

describe('README and docs', () => {
  it.each(pages)('%s links only to files that exist', (page) => {
    const text = readFileSync(join(root, page), 'utf8');
    const missing: string[] = [];
    for (const [, target] of text.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)) {
      if (/^[a-z]+:/.test(target!)) continue;
      if (!existsSync(join(root, dirname(page), target!))) missing.push(target!);
    }
    // A Markdown page named in code (`docs/x.md`, `mage-study.md`) is a reference too.
    for (const [, name] of text.matchAll(/`([\w./-]+\.md)`/g)) {
      if (![join(root, name!), join(root, dirname(page), name!), join(root, 'docs', name!)].some(existsSync))
        missing.push(name!);
    }
    expect(missing).toEqual([]);
  });
});
