// Asserts the demo's summary (CI runs the README's first command, then this). Writes the checks as
// {passed, failed} JSON for .ci/count.mjs and exits 1 when any check fails.
import { readFileSync, writeFileSync } from 'node:fs';

const [outputFile, exitCode, reportFile] = process.argv.slice(2);
const text = readFileSync(outputFile, 'utf8');
const blocks = ['extract_users', 'extract_orders', 'clean_users', 'join_orders', 'revenue_report', 'notify'];
const row = (block) => text.split('\n').find((l) => new RegExp(`^${block}\\s+`).test(l)) ?? '';
const checks = [
  ['the demo exits 0', exitCode === '0'],
  ['the summary says the pipeline succeeded', /Pipeline etl_demo SUCCEEDED/.test(text)],
  ...blocks.map((b) => [`${b} succeeded`, /\ssucceeded\s/.test(row(b))]),
  ['join_orders needed 2 attempts (fails once, then retried)', /\ssucceeded\s+2\s/.test(row('join_orders'))],
  ['the timeline was written', /Timeline written to/.test(text)],
];
let failed = 0;
for (const [name, ok] of checks) {
  console.log(`${ok ? 'ok  ' : 'FAIL'} demo: ${name}`);
  if (!ok) failed++;
}
writeFileSync(reportFile, JSON.stringify({ passed: checks.length - failed, failed }));
process.exit(failed ? 1 : 0);
