// Sums vitest JSON reports (and other {passed, failed, skipped} JSON files) in a folder and prints
// the plain closing line CI reads. Exits 1 when any test failed or no test ran.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2];
let passed = 0;
let failed = 0;
let skipped = 0;
for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
  const report = JSON.parse(readFileSync(join(dir, file), 'utf8'));
  if (Array.isArray(report.testResults)) {
    const p = report.numPassedTests ?? 0;
    const f = (report.numFailedTests ?? 0) + (report.numRuntimeErrorTests ?? 0);
    const s = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
    // A suite that failed to load has no tests but is a failure.
    const brokenSuites = report.testResults.filter((r) => r.status === 'failed' && r.assertionResults.length === 0).length;
    console.log(`${file}: ${p} passed, ${f + brokenSuites} failed, ${s} skipped`);
    passed += p;
    failed += f + brokenSuites;
    skipped += s;
  } else {
    console.log(`${file}: ${report.passed} passed, ${report.failed} failed`);
    passed += report.passed ?? 0;
    failed += report.failed ?? 0;
    skipped += report.skipped ?? 0;
  }
}
console.log(skipped ? `${passed} passed, ${failed} failed, ${skipped} skipped` : `${passed} passed, ${failed} failed`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
