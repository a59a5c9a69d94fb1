// Type-checks every `@example` of the TSDoc in src/, and the README's ```ts blocks: each one becomes a
// small module compiled by tsc against the built package (`npm run build` first), as a user would write it.
//
//   npx node scripts/check-examples.mjs [--report FILE]
//
// How an example becomes a module:
// - Names the example uses and does not declare or import itself are imported: from 'k8s-executor' or
//   'k8s-executor/testing' when the package exports them. The documented symbol itself is always imported.
// - An example of a symbol the package does not export (an internal helper) may also use what the
//   modules of src/ export (a name exported by one module only), imported from that module.
// - The free variables of PREAMBLE below stand for "your own" values (a JobClient, a signal...); an example
//   may use them without declaring them. Keep this list short: an example should be copyable as it is.
// - Top-level await is allowed; each example is its own module, strict, against the built .d.ts files.
//
// Prints one line per failing example (file:line, the symbol, tsc's message) and a total; exits 1 when
// any example fails. `--report FILE` writes {passed, failed} for .ci/count.mjs; `--keep` keeps (and
// names) the folder of generated modules.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The free variables an example may use: name → type, from the package. */
const PREAMBLE = {
  configSource: 'ConfigSource',
  jobClient: 'JobClient',
  clock: 'Clock',
  signal: 'AbortSignal',
  snapshot: 'ConfigSnapshot',
  resolved: 'ResolvedConfig',
  identity: 'RunIdentity',
  run: 'BlockRun',
  job: 'Job',
  executor: 'K8sBlockExecutor',
  client: 'InMemoryJobClient',
  hubs: 'WatchHubs',
  projectDir: 'string',
  namespace: 'string',
  jobName: 'string',
  submittedAt: 'number',
};

function fail(message) {
  console.error(`check-examples: ${message}`);
  process.exit(1);
}

if (
  !existsSync(join(root, 'dist', 'index.d.ts')) ||
  !existsSync(join(root, 'dist', 'testing', 'index.d.ts'))
) {
  fail('dist/ has no type declarations: run `npm run build` first.');
}

const work = mkdtempSync(join(tmpdir(), 'k8s-executor-examples-'));
try {
  process.exitCode = check(work);
} finally {
  if (process.argv.includes('--keep')) console.log(`generated modules kept in ${work}`);
  else rmSync(work, { recursive: true, force: true });
}

function check(dir) {
  // The package as a consumer gets it: node_modules/k8s-executor is the repository (its exports map
  // points at dist/).
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(root, join(dir, 'node_modules', 'k8s-executor'), 'dir');
  const options = {
    strict: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    moduleDetection: ts.ModuleDetectionKind.Force,
    lib: ['lib.es2023.d.ts'],
    types: ['node'],
    typeRoots: [join(root, 'node_modules', '@types')],
    skipLibCheck: true,
    noEmit: true,
  };
  const exportsOf = { ...packageExports(dir, options), source: sourceExports() };
  const examples = collectExamples();
  // A .ts file, not a .d.ts: skipLibCheck would not check a declaration file.
  const preamble = join(dir, 'preamble.ts');
  const preambleTypes = [...new Set(Object.values(PREAMBLE).filter((t) => /^[A-Z]/.test(t)))];
  const fromTesting = preambleTypes.filter((t) => exportsOf.testing.has(t));
  const fromIndex = preambleTypes.filter((t) => !exportsOf.testing.has(t) && t !== 'AbortSignal');
  writeFileSync(
    preamble,
    [
      `import type { ${fromIndex.join(', ')} } from 'k8s-executor';`,
      `import type { ${fromTesting.join(', ')} } from 'k8s-executor/testing';`,
      'declare global {',
      ...Object.entries(PREAMBLE).map(([name, type]) => `  const ${name}: ${type};`),
      '}',
    ].join('\n'),
  );
  const files = examples.map((example, i) => {
    const file = join(dir, `example-${i}.ts`);
    writeFileSync(file, moduleFor(example, exportsOf));
    return { file, example };
  });
  const program = ts.createProgram([preamble, ...files.map((f) => f.file)], options);
  const preambleErrors = ts.getPreEmitDiagnostics(program, program.getSourceFile(preamble));
  if (preambleErrors.length > 0) fail(`the preamble does not compile:\n${format(preambleErrors, 0)}`);
  let failed = 0;
  for (const { file, example } of files) {
    const diagnostics = ts.getPreEmitDiagnostics(program, program.getSourceFile(file));
    if (diagnostics.length === 0) continue;
    failed++;
    console.log(
      `FAIL ${example.where} @example of ${example.owner}${example.isPublic ? '' : ' (internal)'}:`,
    );
    console.log(indent(example.code));
    console.log(indent(format(diagnostics, example.codeLine)));
  }
  const passed = files.length - failed;
  console.log(`${files.length} @example blocks type-checked: ${passed} passed, ${failed} failed`);
  const reportAt = process.argv.indexOf('--report');
  if (reportAt !== -1) writeFileSync(process.argv[reportAt + 1], JSON.stringify({ passed, failed }));
  return failed > 0 || files.length === 0 ? 1 : 0;
}

/** The names `k8s-executor` and `k8s-executor/testing` export, read from the built declarations. */
function packageExports(dir, options) {
  const probe = join(dir, 'probe.ts');
  writeFileSync(probe, "import * as a from 'k8s-executor';\nimport * as b from 'k8s-executor/testing';\n");
  const program = ts.createProgram([probe], options);
  const checker = program.getTypeChecker();
  const [index, testing] = program.getSourceFile(probe).statements.map((s) => {
    const symbol = checker.getSymbolAtLocation(s.moduleSpecifier);
    if (!symbol) fail(`cannot resolve ${s.moduleSpecifier.getText()} from the built package`);
    return new Set(checker.getExportsOfModule(symbol).map((e) => e.name));
  });
  return { index, testing };
}

/** Every `@example` of src/**.ts: its code, where it is, the symbol it documents and whether that is public. */
function collectExamples() {
  const found = [];
  for (const path of sourceFiles(join(root, 'src'))) {
    const source = parse(path);
    const seen = new Set();
    const visit = (node) => {
      for (const tag of ts.getJSDocTags(node)) {
        if (tag.tagName.text !== 'example' || seen.has(tag.pos)) continue;
        seen.add(tag.pos);
        const code = (ts.getTextOfJSDocComment(tag.comment) ?? '').replace(/^```\w*\n?|\n?```$/gm, '').trim();
        const owner = ownerName(node);
        const line = source.getLineAndCharacterOfPosition(tag.getStart()).line + 1;
        found.push({
          code,
          owner,
          path,
          where: `${relative(root, path)}:${line}`,
          isPublic: false,
        });
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  // The README's TypeScript blocks are examples too, of the public API.
  const readme = ts.sys.readFile(join(root, 'README.md')) ?? '';
  for (const match of readme.matchAll(/^```ts\n([\s\S]*?)^```/gm)) {
    const line = readme.slice(0, match.index).split('\n').length;
    found.push({
      code: match[1].trim(),
      owner: '(README)',
      path: join(root, 'README.md'),
      where: `README.md:${line}`,
    });
  }
  return found;
}

function parse(path) {
  return ts.createSourceFile(path, ts.sys.readFile(path), ts.ScriptTarget.Latest, true);
}

/** Name → the src module that exports it, for the names exactly one module exports. */
function sourceExports() {
  const owners = new Map();
  for (const path of sourceFiles(join(root, 'src'))) {
    for (const name of exportedNames(parse(path))) owners.set(name, owners.has(name) ? undefined : path);
  }
  return owners;
}

function sourceFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** The exported declaration a doc comment belongs to (a member's class). */
function ownerName(node) {
  let current = node;
  while (current && !ts.isSourceFile(current)) {
    if (
      ts.isClassDeclaration(current) ||
      ts.isFunctionDeclaration(current) ||
      ts.isInterfaceDeclaration(current)
    )
      return current.name?.text ?? '(anonymous)';
    if (ts.isVariableStatement(current)) return current.declarationList.declarations[0].name.getText();
    if (ts.isTypeAliasDeclaration(current) || ts.isEnumDeclaration(current)) return current.name.text;
    current = current.parent;
  }
  return '(file)';
}

function exportedNames(source) {
  const names = new Set();
  for (const s of source.statements) {
    const exported =
      ts.canHaveModifiers(s) && ts.getModifiers(s)?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
    if (!exported) continue;
    if (ts.isVariableStatement(s))
      for (const d of s.declarationList.declarations) names.add(d.name.getText());
    else if (s.name) names.add(s.name.text);
  }
  return names;
}

/** The module an example is compiled as. */
function moduleFor(example, exportsOf) {
  example.isPublic =
    example.owner === '(README)' ||
    exportsOf.index.has(example.owner) ||
    exportsOf.testing.has(example.owner);
  const { declared, referenced } = namesIn(example.code);
  const imports = new Map([
    ['k8s-executor', new Set()],
    ['k8s-executor/testing', new Set()],
  ]);
  const add = (from, name) => imports.set(from, (imports.get(from) ?? new Set()).add(name));
  for (const name of referenced) {
    if (declared.has(name)) continue;
    if (name in PREAMBLE && name !== example.owner) continue;
    if (exportsOf.testing.has(name)) add('k8s-executor/testing', name);
    else if (exportsOf.index.has(name)) add('k8s-executor', name);
    else if (!example.isPublic && exportsOf.source.get(name))
      add(exportsOf.source.get(name).replace(/\.ts$/, '.js'), name);
  }
  const lines = [
    `// ${example.where}: @example of ${example.owner}`,
    ...[...imports]
      .filter(([, names]) => names.size > 0)
      .map(([from, names]) => `import { ${[...names].join(', ')} } from '${from}';`),
  ];
  example.codeLine = lines.length;
  lines.push(example.code);
  return `${lines.join('\n')}\n`;
}

/** The names an example declares or imports, and the names it refers to. */
function namesIn(code) {
  const source = ts.createSourceFile('example.ts', code, ts.ScriptTarget.Latest, true);
  const declared = new Set();
  const referenced = new Set();
  const visit = (node) => {
    if (ts.isIdentifier(node)) {
      const parent = node.parent;
      const isDeclaration =
        (ts.isVariableDeclaration(parent) ||
          ts.isFunctionDeclaration(parent) ||
          ts.isClassDeclaration(parent) ||
          ts.isParameter(parent) ||
          ts.isImportSpecifier(parent) ||
          ts.isImportClause(parent) ||
          ts.isNamespaceImport(parent) ||
          ts.isBindingElement(parent)) &&
        parent.name === node;
      const isMemberName =
        (ts.isPropertyAccessExpression(parent) && parent.name === node) ||
        (ts.isPropertyAssignment(parent) && parent.name === node) ||
        (ts.isBindingElement(parent) && parent.propertyName === node) ||
        (ts.isQualifiedName(parent) && parent.right === node) ||
        ts.isPropertySignature(parent) ||
        ts.isMethodDeclaration(parent);
      if (isDeclaration) declared.add(node.text);
      else if (!isMemberName) referenced.add(node.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return { declared, referenced };
}

/** tsc's messages, with lines counted from the example's first line (`codeLine` in the module). */
function format(diagnostics, codeLine) {
  return diagnostics
    .map((d) => {
      const message = ts.flattenDiagnosticMessageText(d.messageText, '\n');
      if (!d.file || d.start === undefined) return message;
      const { line } = d.file.getLineAndCharacterOfPosition(d.start);
      return `line ${line - codeLine + 1}: ${message}`;
    })
    .join('\n');
}

function indent(text) {
  return text
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
}
