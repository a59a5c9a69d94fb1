/**
 * The package's public declarations must not mention the types of client-node, undici or OpenTelemetry:
 * consumers compile our `.d.ts` with `skipLibCheck: false`, and client-node's own declarations fail
 * there (and OpenTelemetry is an optional peer). This emits the declarations of `src/` (syntactically,
 * without type checking) and follows every relative import and re-export from the `.d.ts` of each entry
 * point (`k8s-executor` and `k8s-executor/testing`). `scripts/api-report.mjs` checks the built `dist/`
 * the same way, and compiles it with `skipLibCheck` off.
 */
import { readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..', '..');

function emitDeclarations(): Map<string, string> {
  const src = join(ROOT, 'src');
  const files = readdirSync(src, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => join(src, f));
  const program = ts.createProgram(files, {
    declaration: true,
    emitDeclarationOnly: true,
    noCheck: true,
    noResolve: true,
    noLib: true,
    types: [],
    target: ts.ScriptTarget.ES2023,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    isolatedModules: true,
  });
  const out = new Map<string, string>();
  program.emit(undefined, (name, text) => out.set(relative(ROOT, resolve(ROOT, name)), text));
  return out;
}

/** Every declaration file reachable from `entry` through relative `import`/`export ... from`. */
function reachable(declarations: Map<string, string>, entry: string): string[] {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = declarations.get(file) ?? '';
    for (const [, specifier] of text.matchAll(/(?:from|import\()\s*['"](\.[^'"]+)['"]/g)) {
      visit(relative(ROOT, resolve(ROOT, dirname(file), specifier!.replace(/\.js$/, '.d.ts'))));
    }
  };
  visit(entry);
  return [...seen];
}

const FORBIDDEN = /['"](@kubernetes\/client-node|undici|@opentelemetry\/[a-z-]+)['"/]/;
const declarations = emitDeclarations();

describe('public declarations', () => {
  // Each entry with a declaration that must be reached (the walk follows the type imports that far).
  it.each([
    ['k8s-executor', join('src', 'index.d.ts'), join('src', 'adapters', 'client-node', 'kube-api.d.ts')],
    [
      'k8s-executor/testing',
      join('src', 'testing', 'index.d.ts'),
      join('src', 'adapters', 'local', 'sim', 'sim-cluster.d.ts'),
    ],
  ])('of %s never mention client-node, undici or OpenTelemetry', (_entry, file, deep) => {
    const files = reachable(declarations, file);
    expect(files).toContain(deep);
    const leaking = files.filter((f) => FORBIDDEN.test(declarations.get(f) ?? ''));
    expect(leaking).toEqual([]);
  });

  it('would see a leak: the adapter modules that do import client-node (or OpenTelemetry) match', () => {
    const adapterFiles = [...declarations.keys()].filter((f) => FORBIDDEN.test(declarations.get(f) ?? ''));
    expect(adapterFiles.length).toBeGreaterThan(0);
    expect(
      adapterFiles.every(
        (f) => f.startsWith(join('src', 'adapters', 'client-node')) || f.includes('telemetry'),
      ),
    ).toBe(true);
  });
});
