import type { ConfigIssue } from '../errors/config-error.js';
import type { RunIdentity } from '../types/run.js';

/**
 * The problems of a run's identity that no config can fix: an empty (or blank) pipeline run id, and in
 * block mode an empty block run id. Either would give every such run the same identity (labels, resume,
 * cleanup) and a Job name without its run id, so the run is refused before any Job. Pure.
 */
export function identityIssues(identity: RunIdentity, mode: 'block' | 'pipeline'): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const blank = (value: unknown) => value == null || String(value).trim() === '';
  if (blank(identity.pipelineRunId)) {
    issues.push({
      code: 'INVALID_VALUE',
      path: 'pipelineRunId',
      message: `the pipeline run id is ${describe(identity.pipelineRunId)}: pass the id the orchestrator assigned to the run, such as "42" (CLI: --pipeline-run-id).`,
    });
  }
  if (mode === 'block' && identity.blockRunId !== undefined && blank(identity.blockRunId)) {
    issues.push({
      code: 'INVALID_VALUE',
      path: 'blockRunId',
      message: `the block run id is ${describe(identity.blockRunId)}: pass the id the orchestrator assigned to the block run, such as "42" (CLI: --block-run-id).`,
    });
  }
  return issues;
}

function describe(value: unknown): string {
  return value == null ? 'missing' : value === '' ? 'empty' : `blank (${JSON.stringify(value)})`;
}
