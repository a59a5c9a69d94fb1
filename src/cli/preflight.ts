import { FsConfigSource } from '../adapters/fs/fs-config-source.js';
import { preflight } from '../preflight/preflight.js';
import type { BlockPreflight, FindingStatus, PreflightReport } from '../preflight/types.js';
import { type CliArgs, required } from './args.js';
import { blockUuidsOf, readServerPod } from './prepare-selection.js';
import { blockOverrides, runOverrides } from './set-flags.js';
import { formatTable, terminalWidth } from './table.js';
import { plural } from './words.js';

/**
 * `preflight`: checks every Job the pipeline's run would create against the cluster of the kubeconfig,
 * creating nothing; prints a table per Job (or the report as JSON). Returns the exit code: 0 when no
 * block would fail, 1 when one would.
 */
export async function preflightCommand(
  args: CliArgs,
  env: Record<string, string | undefined>,
  out: { write(text: string): unknown; isTTY?: boolean; columns?: number },
): Promise<number> {
  const projectDir = required(args.project, '--project DIR', 'preflight');
  const pipelineUuid = required(args.pipeline, '--pipeline UUID', 'preflight');
  const serverPod = args.serverPod ? await readServerPod(args.serverPod, env, 'preflight') : undefined;
  const overrides = runOverrides(args);
  const configSource = new FsConfigSource({ projectDir, env });
  // --set-block names a block of the pipeline (BLOCK.KEY=VALUE, where BLOCK may hold dots itself).
  const perBlock =
    args.setBlocks.length > 0
      ? blockOverrides(args, blockUuidsOf(await configSource.load(pipelineUuid)))
      : {};
  const report = await preflight({
    projectDir,
    pipelineUuid,
    env,
    configSource,
    variables: args.vars,
    ...(args.block !== undefined ? { blockUuid: args.block } : {}),
    ...(args.mode ? { mode: args.mode } : {}),
    ...(overrides.length > 0 ? { overrides } : {}),
    ...(Object.keys(perBlock).length > 0 ? { blockOverrides: perBlock } : {}),
    ...(args.trigger !== undefined ? { triggerName: args.trigger } : {}),
    ...(args.kubeconfig !== undefined ? { kubeconfigPath: args.kubeconfig } : {}),
    ...(args.context !== undefined ? { context: args.context } : {}),
    ...(serverPod ? { podIntrospector: { currentPod: () => Promise.resolve(serverPod) } } : {}),
  });
  out.write(
    args.output === 'json'
      ? `${JSON.stringify(report, null, 2)}\n`
      : formatReport(report, terminalWidth(out)),
  );
  return report.ok ? 0 : 1;
}

/** The report as text: a table per Job, then one line that sums it up. */
export function formatReport(report: PreflightReport, width?: number): string {
  const sections = report.blocks.map((block) => formatBlock(block, width));
  return `${sections.join('\n')}\n${summaryLine(report)}\n`;
}

function formatBlock(block: BlockPreflight, width: number | undefined): string {
  const rows = block.findings.map((f) => [
    f.check,
    f.status,
    f.fix ? `${f.message} Fix: ${f.fix}` : f.message,
  ]);
  const title = `${block.block}: Job ${block.jobName} in namespace ${block.namespace}: ${VERDICT[block.status]}`;
  return `${title}\n${formatTable(['CHECK', 'STATUS', 'FINDING'], rows, { fit: 2, ...(width ? { width } : {}) })}`;
}

/** What a block's worst status means for its run. */
const VERDICT: Readonly<Record<FindingStatus, string>> = {
  ok: 'ok',
  'not-checked': 'ok as far as checked',
  warn: 'may wait or degrade',
  fail: 'WOULD FAIL',
};

function summaryLine(report: PreflightReport): string {
  const count = (status: FindingStatus) => report.blocks.filter((b) => b.status === status).length;
  const findings = report.blocks.flatMap((b) => b.findings);
  const warnings = findings.filter((f) => f.status === 'warn').length;
  const unchecked = findings.filter((f) => f.status === 'not-checked').length;
  const failing = count('fail');
  const jobs = plural(report.blocks.length, 'Job');
  const verdict = failing > 0 ? `${failing} would fail` : 'none would fail';
  const notes = [
    ...(warnings > 0 ? [plural(warnings, 'warning')] : []),
    ...(unchecked > 0 ? [`${plural(unchecked, 'check')} not done`] : []),
  ];
  return `Preflight of pipeline ${report.pipelineUuid} (${report.mode}): ${jobs} checked, ${verdict}${notes.length > 0 ? `; ${notes.join(', ')}` : ''}. See docs/preflight.md.`;
}
