/**
 * The package's public declarations must not mention client-node's (or undici's) types: consumers
 * compile our `.d.ts` with `skipLibCheck: false`, and client-node's own declarations fail there. This
 * emits the declarations of `src/` (syntactically, without type checking) and follows every relative
 * import and re-export from `src/index.d.ts`.
 */
import { readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..', '..', '..');

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

describe('public declarations', () => {
  it('never mention @kubernetes/client-node or undici', () => {
    const declarations = emitDeclarations();
    const files = reachable(declarations, join('src', 'index.d.ts'));
    expect(files).toContain(join('src', 'adapters', 'client-node', 'index.d.ts'));
    expect(files).toContain(join('src', 'adapters', 'client-node', 'kube-api.d.ts'));
    const leaking = files.filter((f) =>
      /['"](@kubernetes\/client-node|undici)['"/]/.test(declarations.get(f) ?? ''),
    );
    expect(leaking).toEqual([]);
  });
});
