// Checks the public API of the built package against its committed reports, one per entry point:
// etc/k8s-executor.api.md (`k8s-executor`) and etc/k8s-executor-testing.api.md (`k8s-executor/testing`),
// written by API Extractor from dist/*.d.ts (`npm run build` first). See docs/api.md.
//
//   npx node scripts/api-report.mjs [--update] [--report FILE]
//
// Fails (exit 1) when a report differs from the build (the diff is printed: review it, then
// `npm run api:update` rewrites the reports), when an export or a member of one has no doc comment, when a
// type used in a public signature is not exported, when a {@link} of the public docs does not resolve,
// when the declarations do not type-check with skipLibCheck off, or when they import any package (the
// public types are self-contained: no client-node, undici or OpenTelemetry types). `--update` writes the
// reports instead of comparing them (the other checks still fail). `--report FILE` writes
// {passed, failed} for .ci/count.mjs: one check per entry point, and one for self-contained declarations.
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import apiExtractor from '@microsoft/api-extractor';
import ts from 'typescript';

const { CompilerState, Extractor, ExtractorConfig, ExtractorLogLevel } = apiExtractor;
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const update = process.argv.includes('--update');
const ENTRY_POINTS = [
  { name: 'k8s-executor', config: 'etc/api-extractor.jsonc', dts: 'dist/index.d.ts' },
  { name: 'k8s-executor/testing', config: 'etc/api-extractor-testing.jsonc', dts: 'dist/testing/index.d.ts' },
];

function fail(message) {
  console.error(`api-report: ${message}`);
  process.exit(1);
}

for (const { dts } of ENTRY_POINTS) {
  if (!existsSync(join(root, dts))) fail(`${dts} is missing: run \`npm run build\` first.`);
}
const builtAt = statSync(join(root, ENTRY_POINTS[0].dts)).mtimeMs;
const newer = sourceFiles(join(root, 'src')).find((file) => statSync(file).mtimeMs > builtAt);
if (newer) fail(`${relative(root, newer)} changed after the last build: run \`npm run build\` first.`);

let passed = 0;
let failed = 0;
const mainExports = exportsOf(ENTRY_POINTS[0].dts);
const configs = ENTRY_POINTS.map((entry) => ExtractorConfig.loadFileAndPrepare(join(root, entry.config)));
// One compilation (the declarations and @types/node, skipLibCheck off) serves both entry points.
const compilerState = CompilerState.create(configs[0], {
  additionalEntryPoints: configs.slice(1).map((c) => c.mainEntryPointFilePath),
});
for (const [i, entry] of ENTRY_POINTS.entries()) {
  if (extract(entry, configs[i])) passed++;
  else failed++;
}
const imports = packageImports(join(root, 'dist'));
if (imports.length === 0) {
  console.log('OK   the declarations import no package: the public types are self-contained');
  passed++;
} else {
  console.log(
    'FAIL the declarations import other packages (their types must not be part of the public API):',
  );
  for (const line of imports) console.log(`       ${line}`);
  failed++;
}
console.log(`public API: ${passed} passed, ${failed} failed`);
const reportAt = process.argv.indexOf('--report');
if (reportAt !== -1) writeFileSync(process.argv[reportAt + 1], JSON.stringify({ passed, failed }));
process.exitCode = failed > 0 ? 1 : 0;

/** Runs API Extractor on one entry point; true when its report matches (or was written) without errors. */
function extract({ name }, extractorConfig) {
  const report = relative(root, extractorConfig.reportFilePath);
  let result;
  try {
    result = Extractor.invoke(extractorConfig, {
      localBuild: update,
      compilerState,
      printApiReportDiff: true,
      messageCallback: (message) => route(message, name !== ENTRY_POINTS[0].name),
    });
  } catch (error) {
    // API Extractor gives up on declarations it cannot follow (a type that does not resolve).
    console.log(`FAIL ${name}: API Extractor could not analyse the declarations: ${error.message}`);
    return false;
  }
  if (result.errorCount > 0) {
    const changed = result.apiReportChanged && !update ? `; the API also differs from ${report}` : '';
    console.log(`FAIL ${name}: ${result.errorCount} error(s) above${changed}`);
    return false;
  }
  if (result.apiReportChanged && !update) {
    console.log(
      `FAIL ${name}: the public API differs from ${report} (the diff is above). If the change is meant, ` +
        'run `npm run api:update` and commit the report with it.',
    );
    return false;
  }
  console.log(`OK   ${name}: ${result.apiReportChanged ? `${report} written` : `matches ${report}`}`);
  return true;
}

/** What becomes of one of API Extractor's messages. */
function route(message, isTesting) {
  if (isTesting && mainExports.has(referencedName(message))) {
    // The testing entry uses the ports and Kubernetes types of the main entry, which exports them:
    // they are part of that entry's report, not missing from this one.
    message.logLevel = ExtractorLogLevel.None;
  } else if (message.logLevel === ExtractorLogLevel.Error && message.sourceFilePath) {
    // Name the declaration: a line of dist/*.d.ts says little about where to fix it in src/.
    message.handled = true;
    const where = `${relative(root, message.sourceFilePath)}:${message.sourceFileLine}`;
    const owner = ownerAt(message.sourceFilePath, message.sourceFileLine);
    console.log(`error: ${where} (${owner}): ${message.text} [${message.messageId}]`);
  } else if (
    message.category === 'console' &&
    message.messageId !== 'console-api-report-diff' &&
    message.logLevel !== ExtractorLogLevel.Error
  ) {
    // API Extractor's own progress lines (the verdict is printed after them), but the report's diff.
    message.logLevel = ExtractorLogLevel.None;
  }
}

/** The export a "forgotten export" or unresolved {@link} message is about. */
function referencedName(message) {
  if (message.messageId === 'ae-forgotten-export') return /The symbol "([^"]+)"/.exec(message.text)?.[1];
  if (message.messageId === 'ae-unresolved-link')
    return /does not have an export "([^"]+)"/.exec(message.text)?.[1];
  return undefined;
}

/** The top-level declaration a line of a declaration file belongs to, e.g. `interface BlockRun`. */
function ownerAt(file, line) {
  const lines = readFileSync(file, 'utf8').split('\n');
  for (let i = line - 1; i >= 0; i--) {
    const match =
      /^(?:export )?(?:declare )?(interface|class|type|function|const|let|enum|namespace) ([\w$]+)/.exec(
        lines[i] ?? '',
      );
    if (match) return `${match[1]} ${match[2]}`;
  }
  return 'top level';
}

/** The names a built entry point exports. */
function exportsOf(dts) {
  const file = join(root, dts);
  const program = ts.createProgram([file], { noEmit: true, types: [], noLib: true });
  const checker = program.getTypeChecker();
  return new Set(
    checker.getExportsOfModule(checker.getSymbolAtLocation(program.getSourceFile(file))).map((s) => s.name),
  );
}

/** `file: specifier` for every import of a package (not a relative path, not a `node:` module) in dist's declarations. */
function packageImports(dir) {
  const found = [];
  for (const file of declarationFiles(dir)) {
    // The compiler's own scan: imports, `import()` types and `/// <reference types>`, not comments.
    const { importedFiles, typeReferenceDirectives } = ts.preProcessFile(
      readFileSync(file, 'utf8'),
      true,
      true,
    );
    // Node's own types (`/// <reference types="node" />`) are allowed: the API uses Node's globals.
    const packages = [...importedFiles, ...typeReferenceDirectives.filter((t) => t.fileName !== 'node')];
    for (const { fileName } of packages) {
      if (!fileName.startsWith('.') && !fileName.startsWith('node:'))
        found.push(`${relative(root, file)}: ${fileName}`);
    }
  }
  return found;
}

function declarationFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return declarationFiles(path);
    return /\.d\.c?ts$/.test(entry.name) ? [path] : [];
  });
}

function sourceFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? sourceFiles(path) : [path];
  });
}
