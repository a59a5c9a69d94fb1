import { join } from 'node:path';
import { FsConfigSource } from '../adapters/fs/fs-config-source.js';
import { checkSnapshot, type ValidationProblem, type ValidationWarning } from '../config/index.js';
import { type ConfigIssue, formatConfigIssue } from '../errors/config-error.js';
import { type CliArgs, required } from './args.js';
import { readServerPod } from './prepare-selection.js';
import { plural } from './words.js';

/**
 * `validate`: every problem of the project with file:line, checking what `run` would do (one Job per block,
 * or the whole pipeline as one Job with `--mode single-job` or `run_pipeline_in_one_process: true`), and
 * the warnings. Returns the text and whether it is valid (warnings alone do not make it invalid).
 */
export async function validateCommand(
  args: CliArgs,
  env: Record<string, string | undefined>,
): Promise<{ text: string; valid: boolean }> {
  const projectDir = required(args.project, '--project DIR', 'validate');
  const source = new FsConfigSource({ projectDir, env });
  const pipelines = args.pipeline ? [args.pipeline] : await source.listPipelines();
  const problems: ValidationProblem[] = [];
  const warnings: ValidationWarning[] = [];
  const serverPod = args.serverPod ? await readServerPod(args.serverPod, env, 'validate') : undefined;
  const seen = new Set<string>();
  const once = <T extends ValidationProblem | ValidationWarning>(into: T[], item: T) => {
    const key = `${item.code}|${item.path}|${item.location?.file}|${item.location?.line}|${item.message}`;
    if (seen.has(key)) return;
    seen.add(key);
    into.push(item);
  };
  for (const uuid of pipelines.length > 0 ? pipelines : [undefined]) {
    const report = checkSnapshot(await source.load(uuid), {
      ...(args.mode ? { mode: args.mode } : {}),
      ...(serverPod ? { serverPod } : {}),
    });
    for (const problem of report.problems) once(problems, problem);
    for (const warning of report.warnings) once(warnings, warning);
  }
  if (pipelines.length === 0 && !problems.some((p) => p.code === 'FILE_NOT_FOUND')) {
    problems.push({
      code: 'UNKNOWN_PIPELINE',
      path: '',
      message: `${join(projectDir, 'pipelines')} holds no pipeline (no pipelines/<uuid>/metadata.yaml): nothing would run.`,
    });
  }
  const warningText = warnings.map(
    (w) => `warning: ${formatConfigIssue(w as unknown as ConfigIssue)}${label(w)}`,
  );
  if (problems.length === 0) {
    return {
      text: `${warningText.map((line) => `${line}\n`).join('')}${projectDir}: ${plural(pipelines.length, 'pipeline')} checked, no problems found${warnings.length > 0 ? ` (${plural(warnings.length, 'warning')})` : ''}.\n`,
      valid: true,
    };
  }
  const lines = [...problems.map((p) => `${formatConfigIssue(p)}${label(p)}`), ...warningText];
  return {
    text: `${lines.join('\n')}\n\n${plural(problems.length, 'problem')} in ${projectDir}. See docs/errors.md for each code.\n`,
    valid: false,
  };
}

/** Which run a problem belongs to: ` (single-job run)`, ` (dag: blocks a, b)`; nothing for a file's own. */
function label(item: ValidationProblem | ValidationWarning): string {
  if (!item.mode) return '';
  if (item.mode === 'single-job') return ' (single-job run)';
  const blocks = 'blocks' in item ? item.blocks : undefined;
  return blocks && blocks.length > 0
    ? ` (dag run: ${blocks.length === 1 ? 'block' : 'blocks'} ${blocks.join(', ')})`
    : ' (dag run)';
}
