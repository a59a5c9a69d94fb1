/**
 * The curated public surface (docs/api.md): each entry point names its exports one by one, and the
 * committed API reports list exactly those names. The reports themselves (signatures, docs) are compared
 * with the build by `npm run api:check` in CI; this catches, within `npm test` and without a build, an
 * export added or removed without `npm run api:update`, or an `export *` that would widen the surface.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import * as api from '../../src/index.js';
import * as testing from '../../src/testing/index.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const ENTRY_POINTS = [
  ['k8s-executor', 'src/index.ts', 'etc/k8s-executor.api.md'],
  ['k8s-executor/testing', 'src/testing/index.ts', 'etc/k8s-executor-testing.api.md'],
] as const;

/** An entry point's source. */
function parse(entry: string): ts.SourceFile {
  return ts.createSourceFile(entry, readFileSync(join(ROOT, entry), 'utf8'), ts.ScriptTarget.Latest, true);
}

/** The names an entry point exports (values and types): its `export { ... } from` lists, all it has. */
function exportedNames(entry: string): string[] {
  return parse(entry)
    .statements.flatMap((s) =>
      ts.isExportDeclaration(s) && s.exportClause && ts.isNamedExports(s.exportClause)
        ? s.exportClause.elements.map((e) => e.name.text)
        : [],
    )
    .sort();
}

/** The top-level declarations of an API report. */
function reportedNames(report: string): string[] {
  const text = readFileSync(join(ROOT, report), 'utf8');
  return [
    ...text.matchAll(
      /^export (?:declare )?(?:abstract )?(?:interface|class|function|const|type|enum|namespace) ([\w$]+)/gm,
    ),
  ]
    .map((m) => m[1]!)
    .filter((name, i, all) => all.indexOf(name) === i)
    .sort();
}

describe('the public API', () => {
  it.each(ENTRY_POINTS)('%s exports exactly the names of its API report', (_name, entry, report) => {
    expect(exportedNames(entry)).toEqual(reportedNames(report));
  });

  it.each(ENTRY_POINTS)('%s names each export (no `export *`, no declaration of its own)', (_name, entry) => {
    const source = ts.createSourceFile(
      entry,
      readFileSync(join(ROOT, entry), 'utf8'),
      ts.ScriptTarget.Latest,
    );
    const star = source.statements.filter(
      (s) => ts.isExportDeclaration(s) && (!s.exportClause || ts.isNamespaceExport(s.exportClause)),
    );
    expect(star.map((s) => s.getText(source))).toEqual([]);
  });

  it('does not export the internals of the monitor, the spec and the simulator', () => {
    for (const name of [
      'reduce',
      'nextDeadline',
      'initialBlockState',
      'followJob',
      'sortKeys',
      'stableJson',
    ]) {
      expect(api, name).not.toHaveProperty(name);
    }
    expect(testing).not.toHaveProperty('ScriptedPodRunner');
  });

  it('exports what a user starts with, at run time', () => {
    for (const name of [
      'createExecutors',
      'K8sBlockExecutor',
      'K8sPipelineExecutor',
      'isK8sExecutorError',
      'preflight',
    ]) {
      expect(typeof (api as Record<string, unknown>)[name], name).toBe('function');
    }
    for (const name of ['FakeClock', 'InMemoryJobClient', 'StaticConfigSource', 'runUntil']) {
      expect(typeof (testing as Record<string, unknown>)[name], name).toBe('function');
    }
  });
});
