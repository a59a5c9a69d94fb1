import { ConfigError, type ConfigIssue } from '../errors/config-error.js';
import type { ConfigSnapshot } from '../ports/config-source.js';
import type { ServerPod } from '../ports/pod-introspector.js';
import type { RunIdentity } from '../types/run.js';
import { sortIssues } from './issues.js';
import { isPlainObject } from './merge.js';
import { parsePipeline } from './pipeline.js';
import { resolveConfig } from './resolve.js';

/** Options of {@link validateSnapshot}. */
export interface ValidateSnapshotOptions {
  /** Run variables for templates, over the pipeline's own `variables`. */
  variables?: Record<string, unknown>;
  /** The pod whose image and volumes would be inherited; without it a config with no image is reported. */
  serverPod?: ServerPod;
}

/**
 * Every problem of the snapshot's project and pipeline: the pipeline's structure, and the resolved config
 * of every `k8s` block (and of the pipeline as one Job when its executor_type is `k8s`), with placeholder
 * identity values (run ids `0`, trigger `trigger`, attempt 1) for templates. Without k8s blocks, the
 * project, template and policy layers are still checked (except for the image, as no Job would be built).
 * Never throws; returns the issues sorted by file and line, without duplicates.
 */
export function validateSnapshot(
  snapshot: ConfigSnapshot,
  options: ValidateSnapshotOptions = {},
): ConfigIssue[] {
  const issues: ConfigIssue[] = [...snapshot.issues];
  const quiet: ConfigSnapshot = { ...snapshot, issues: [] };
  const pipelineVariables = isPlainObject(snapshot.pipeline?.value)
    ? snapshot.pipeline.value.variables
    : undefined;
  const variables = { ...(isPlainObject(pipelineVariables) ? pipelineVariables : {}), ...options.variables };
  const resolve = (mode: 'block' | 'pipeline', identity: RunIdentity): ConfigIssue[] => {
    try {
      resolveConfig({
        snapshot: quiet,
        mode,
        identity,
        variables,
        ...(options.serverPod ? { serverPod: options.serverPod } : {}),
      });
      return [];
    } catch (error) {
      if (error instanceof ConfigError) return [...error.issues];
      throw error;
    }
  };
  let resolved = false;
  if (snapshot.pipeline) {
    const { definition, issues: structure } = parsePipeline(snapshot, snapshot.pipeline);
    issues.push(...structure);
    const run = { pipelineUuid: definition.uuid, pipelineRunId: '0', triggerName: 'trigger', attempt: 1 };
    for (const block of definition.blocks.filter((b) => b.executorType === 'k8s')) {
      issues.push(...resolve('block', { ...run, blockUuid: block.uuid, blockRunId: '0' }));
      resolved = true;
    }
    if (definition.executorType === 'k8s') {
      issues.push(...resolve('pipeline', run));
      resolved = true;
    }
  }
  if (!resolved && (snapshot.template || snapshot.policy || hasProjectConfig(snapshot))) {
    const run = { pipelineUuid: 'pipeline', pipelineRunId: '0', triggerName: 'trigger', attempt: 1 };
    issues.push(...resolve('pipeline', run).filter((i) => i.code !== 'MISSING_IMAGE'));
  }
  return sortIssues(issues);
}

function hasProjectConfig(snapshot: ConfigSnapshot): boolean {
  return isPlainObject(snapshot.project?.value) && snapshot.project.value.k8s_executor_config != null;
}
