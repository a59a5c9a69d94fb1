import { FsConfigSource } from '../adapters/fs/fs-config-source.js';
import { validateSnapshot } from '../config/index.js';
import { type ConfigIssue, formatConfigIssue } from '../errors/config-error.js';
import { type CliArgs, required } from './args.js';

/** `validate`: every problem of the project, with file:line. Returns the text and whether it is valid. */
export async function validateCommand(
  args: CliArgs,
  env: Record<string, string | undefined>,
): Promise<{ text: string; valid: boolean }> {
  const projectDir = required(args.project, '--project DIR', 'validate');
  const source = new FsConfigSource({ projectDir, env });
  const pipelines = args.pipeline ? [args.pipeline] : await source.listPipelines();
  const issues: ConfigIssue[] = [];
  const seen = new Set<string>();
  const snapshots = pipelines.length > 0 ? pipelines : [undefined];
  for (const uuid of snapshots) {
    const snapshot = await source.load(uuid);
    for (const issue of validateSnapshot(snapshot)) {
      const key = `${issue.code}|${issue.path}|${issue.location?.file}|${issue.location?.line}|${issue.message}`;
      if (seen.has(key)) continue;
      seen.add(key);
      issues.push(issue);
    }
  }
  if (issues.length === 0) {
    return {
      text: `${projectDir}: ${pipelines.length} pipeline(s) checked, no problems found.\n`,
      valid: true,
    };
  }
  const lines = issues.map((i) => formatConfigIssue(i));
  return {
    text: `${lines.join('\n')}\n\n${issues.length} problem(s) in ${projectDir}. See docs/errors.md for each code.\n`,
    valid: false,
  };
}
