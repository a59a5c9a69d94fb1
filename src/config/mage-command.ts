/**
 * Mage's own command for a Job (the `command: mage` preset), argument for argument as Mage's Kubernetes
 * executors build it (`BlockExecutor._run_commands` / `PipelineExecutor._run_commands` in mage-ai):
 *
 * - block: `/app/run_app.sh mage run <repo> <pipeline> --block-uuid <block> --executor-type local_python
 *   --block-run-id <id> --pipeline-run-id <id>`
 * - whole pipeline: `/app/run_app.sh mage run <repo> <pipeline> --executor-type local_python
 *   --pipeline-run-id <id>`
 *
 * then `--runtime-vars <JSON>` when the caller passed run variables (Mage's server passes none: the pod reads
 * them from Mage's database through the pipeline run id; `mage run` accepts them).
 */

/** The run a Mage command is built for. */
export interface MageCommandInput {
  /** `block` (one block) or `pipeline` (the whole pipeline in one Job). */
  kind: 'block' | 'pipeline';
  /** The project's path in the Job's container. */
  repoPath: string;
  pipelineUuid: string;
  pipelineRunId?: string | undefined;
  blockUuid?: string | undefined;
  blockRunId?: string | undefined;
  /** The caller's run variables (not the run identity). */
  variables?: Readonly<Record<string, unknown>> | undefined;
}

/** The entry script of Mage's image that every Mage command starts with. */
export const MAGE_RUN_APP = '/app/run_app.sh';

/** Mage's `mage run ...` argv for a run. */
export function mageCommand(input: MageCommandInput): string[] {
  const argv = [MAGE_RUN_APP, 'mage', 'run', input.repoPath, input.pipelineUuid];
  if (input.kind === 'block') {
    argv.push('--block-uuid', input.blockUuid ?? '', '--executor-type', 'local_python');
    if (input.blockRunId !== undefined) argv.push('--block-run-id', input.blockRunId);
    // Mage adds the pipeline run id only when it is truthy (a database id, never 0).
    if (input.pipelineRunId && input.pipelineRunId !== '0')
      argv.push('--pipeline-run-id', input.pipelineRunId);
  } else {
    argv.push('--executor-type', 'local_python');
    if (input.pipelineRunId !== undefined) argv.push('--pipeline-run-id', input.pipelineRunId);
  }
  if (input.variables && Object.keys(input.variables).length > 0)
    argv.push('--runtime-vars', JSON.stringify(input.variables));
  return argv;
}

/**
 * Where the project is in the Job's container when the preset does not say: `MAGE_REPO_PATH` (Mage's own
 * variable for it), else `/home/src/<project folder>`, the layout of Mage's image.
 */
export function defaultRepoPath(
  projectDir: string,
  env: Readonly<Record<string, string | undefined>>,
): string {
  if (env.MAGE_REPO_PATH) return env.MAGE_REPO_PATH;
  const last = projectDir
    .split(/[/\\]/)
    .filter((part) => part !== '')
    .at(-1);
  const folder = last === undefined || last === '.' || last === '..' ? 'project' : last;
  return `/home/src/${folder}`;
}
