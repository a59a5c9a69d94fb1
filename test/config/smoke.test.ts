import { expect, it } from 'vitest';
import { parse } from 'yaml';
import { readFileSync } from 'node:fs';
import { FsConfigSource } from '../../src/adapters/fs/fs-config-source.js';
import { validateSnapshot } from '../../src/config/index.js';
import { formatConfigIssue } from '../../src/errors/config-error.js';

it('smoke', async () => {
  const index = parse(readFileSync('test/fixtures/projects/index.yaml', 'utf8'));
  for (const [name, entry] of Object.entries<any>(index)) {
    const source = new FsConfigSource({ projectDir: `test/fixtures/projects/${name}`, env: entry.env ?? {} });
    for (const p of await source.listPipelines()) {
      const issues = validateSnapshot(await source.load(p));
      console.log(name, p, issues.map((i) => formatConfigIssue(i)).join('\n   '));
    }
  }
  expect(1).toBe(1);
});
