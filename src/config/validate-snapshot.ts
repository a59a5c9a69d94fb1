import type { ConfigIssue } from '../errors/config-error.js';
import type { ConfigSnapshot } from '../ports/config-source.js';
import type { ServerPod } from '../ports/pod-introspector.js';
import type { RunIdentity } from '../types/run.js';
import { blockNameClashes } from './block-name-clashes.js';
import { sortIssues } from './issues.js';
import { isPlainObject } from './merge.js';
import { parsePipeline, runModeOf } from './pipeline.js';
import { checkProjectDocument } from './project.js';
import { resolveWithReport } from './resolve.js';
import type { ConfigWarning } from './warnings.js';

/** How a pipeline is run: one Job per block (`dag`) or the whole pipeline as one Job (`single-job`). */
export type RunMode = 'dag' | 'single-job';

/** Options of {@link validateSnapshot} and {@link checkSnapshot}. */
export interface ValidateSnapshotOptions {
  /** Run variables for templates, over the pipeline's own `variables`. */
  variables?: Record<string, unknown>;
  /** The pod whose image and volumes would be inherited; without it a config with no image is reported. */
  serverPod?: ServerPod;
  /**
   * The mode to check, as `run --mode` would run the pipeline. @default `single-job` when the pipeline says
   * `run_pipeline_in_one_process: true` and its executor type is `k8s`, else `dag`
   */
  mode?: RunMode;
}

/** A problem, and for a problem of a run's resolved config, which run it belongs to. */
export interface ValidationProblem extends ConfigIssue {
  /** The mode of the run(s) whose config has this problem; absent for problems of a file as such. */
  mode?: RunMode;
  /** The blocks whose Job has it (`dag`), when not every checked block does. */
  blocks?: string[];
}

/** A warning, with the run it belongs to when it is about a run's Job. */
export interface ValidationWarning extends ConfigWarning {
  /** The mode of the run whose Job it is about. */
  mode?: RunMode;
}

/** Everything {@link checkSnapshot} found. */
export interface ValidationReport {
  /** Every problem, sorted by file and line, each once. */
  problems: ValidationProblem[];
  /** Every warning, sorted by file and line, each once. */
  warnings: ValidationWarning[];
  /** The mode that was checked, when a pipeline was. */
  mode?: RunMode;
}

const PLACEHOLDERS = { pipelineRunId: '0', triggerName: 'trigger', attempt: 1 } as const;

/**
 * Every problem and warning of the snapshot's project and pipeline, checking what a run would do: the
 * files' own keys and structure, and the resolved config of every Job the run would create (each `k8s`
 * block in `dag` mode, and that no two of them get the same Job name; the whole-pipeline Job in
 * `single-job` mode), with placeholder identity values (run ids `0`, trigger `trigger`, attempt 1) for
 * templates. Without a pipeline, the project, template and policy
 * layers are still checked (except for the image, as no Job would be built). Never throws.
 */
export function checkSnapshot(
  snapshot: ConfigSnapshot,
  options: ValidateSnapshotOptions = {},
): ValidationReport {
  const problems: ValidationProblem[] = [...snapshot.issues];
  const warnings: ValidationWarning[] = [];
  const pipelineVariables = isPlainObject(snapshot.pipeline?.value)
    ? snapshot.pipeline.value.variables
    : undefined;
  const variables = { ...(isPlainObject(pipelineVariables) ? pipelineVariables : {}), ...options.variables };
  // One entry per distinct problem of the runs' configs, with the blocks that have it.
  const byRun = new Map<string, { issue: ConfigIssue; mode: RunMode; blocks: string[] }>();
  let runs = 0;
  const resolve = (mode: RunMode, identity: RunIdentity): void => {
    runs += 1;
    const report = resolveWithReport({
      snapshot,
      mode: mode === 'dag' ? 'block' : 'pipeline',
      identity,
      variables,
      ...(options.serverPod ? { serverPod: options.serverPod } : {}),
    });
    warnings.push(...report.warnings);
    // The snapshot's own issues (a file that cannot be read) are the files' problems, reported once.
    for (const issue of report.issues.filter((i) => !snapshot.issues.includes(i))) {
      const key = JSON.stringify([issue.code, issue.path, issue.message, issue.location]);
      const entry = byRun.get(key) ?? { issue, mode, blocks: [] };
      if (identity.blockUuid !== undefined) entry.blocks.push(identity.blockUuid);
      byRun.set(key, entry);
    }
    if (report.resolved && report.resolved.config.container.command === undefined) {
      const what =
        identity.blockUuid === undefined ? 'the whole-pipeline Job' : `block "${identity.blockUuid}"`;
      warnings.push({
        code: 'NO_COMMAND',
        path: identity.blockUuid === undefined ? '' : 'blocks',
        message: `${what} runs as a Kubernetes Job with no command, so the image's own entrypoint runs instead of the block: set \`command: mage\` (Mage's own command) or \`container.command\` in k8s_executor_config (docs/configuration.md §11).`,
        mode,
        ...(locationOf(snapshot, identity.blockUuid) ?? {}),
      });
    }
  };
  let mode: RunMode | undefined;
  if (snapshot.pipeline) {
    const {
      definition,
      issues: structure,
      warnings: fileWarnings,
    } = parsePipeline(snapshot, snapshot.pipeline);
    problems.push(...structure);
    warnings.push(...fileWarnings);
    mode = runModeOf(definition, options.mode);
    const run = { pipelineUuid: definition.uuid, ...PLACEHOLDERS };
    const k8sBlocks = definition.blocks.filter((b) => b.executorType === 'k8s');
    if (mode === 'dag') {
      const indexOf = (uuid: string) => blockIndex(snapshot, uuid);
      problems.push(...blockNameClashes(k8sBlocks, indexOf).map((issue) => ({ ...issue, mode })));
      for (const block of k8sBlocks) resolve('dag', { ...run, blockUuid: block.uuid, blockRunId: '0' });
    } else resolve('single-job', run);
  } else {
    const project = checkProjectDocument(snapshot);
    problems.push(...project.issues);
    warnings.push(...project.warnings);
  }
  if (runs === 0 && (snapshot.template || snapshot.policy || hasProjectConfig(snapshot))) {
    // No Job would be built: check the layers themselves (not the image), as no particular run.
    const report = resolveWithReport({
      snapshot,
      mode: 'pipeline',
      identity: { pipelineUuid: 'pipeline', ...PLACEHOLDERS },
      variables,
    });
    problems.push(...report.issues.filter((i) => i.code !== 'MISSING_IMAGE'));
    warnings.push(...report.warnings);
  }
  const checked = runs;
  for (const { issue, mode: of, blocks } of byRun.values()) {
    const every = of === 'single-job' || blocks.length >= checked;
    problems.push({ ...issue, mode: of, ...(every ? {} : { blocks }) });
  }
  return {
    problems: sortIssues(problems) as ValidationProblem[],
    warnings: sortIssues(warnings as unknown as ConfigIssue[]) as unknown as ValidationWarning[],
    ...(mode ? { mode } : {}),
  };
}

/**
 * Every problem of the snapshot, as {@link checkSnapshot} finds them (warnings aside), sorted by file and
 * line, without duplicates. Never throws.
 */
export function validateSnapshot(
  snapshot: ConfigSnapshot,
  options: ValidateSnapshotOptions = {},
): ConfigIssue[] {
  return checkSnapshot(snapshot, options).problems;
}

function hasProjectConfig(snapshot: ConfigSnapshot): boolean {
  return isPlainObject(snapshot.project?.value) && snapshot.project.value.k8s_executor_config != null;
}

/** Where block `uuid` is in the pipeline file's `blocks` list; -1 when it is not. */
function blockIndex(snapshot: ConfigSnapshot, uuid: string): number {
  const document = snapshot.pipeline;
  const blocks = document && isPlainObject(document.value) ? document.value.blocks : undefined;
  return Array.isArray(blocks) ? blocks.findIndex((b) => isPlainObject(b) && b.uuid === uuid) : -1;
}

/** Where block `uuid` is defined, for a warning about its Job. */
function locationOf(
  snapshot: ConfigSnapshot,
  uuid: string | undefined,
): { location: ConfigIssue['location'] } | undefined {
  const index = uuid === undefined ? -1 : blockIndex(snapshot, uuid);
  const location = index < 0 ? undefined : snapshot.pipeline?.locate(['blocks', index]);
  return location ? { location } : undefined;
}
