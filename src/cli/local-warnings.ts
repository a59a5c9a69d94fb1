import { containerEnv, type LocalPodFields } from '../adapters/local/container-env.js';
import type { PipelineDefinition } from '../config/index.js';
import type { K8sBlockExecutor } from '../executor/block-executor.js';
import { blockRunIdOf, type PipelineRun } from '../executor/pipeline-types.js';
import type { ConfigSnapshot } from '../ports/config-source.js';

/**
 * What the local backend will ignore in this run's Jobs (`valueFrom` env, `envFrom`), one sentence per
 * setting, naming the blocks it concerns. Computed from the same Jobs the run builds, before it starts:
 * the backend itself only records them as warning events on each pod, which nobody reads on success.
 * A block whose config does not resolve is left out: the run reports that problem itself.
 */
export async function localBackendWarnings(
  blocks: K8sBlockExecutor,
  pipeline: PipelineDefinition,
  snapshot: ConfigSnapshot,
  run: PipelineRun & { variables: Readonly<Record<string, unknown>> },
  mode: 'dag' | 'single-job' | undefined,
): Promise<string[]> {
  const identity = {
    pipelineUuid: run.pipelineUuid,
    pipelineRunId: run.pipelineRunId,
    variables: run.variables,
    ...(run.triggerName !== undefined ? { triggerName: run.triggerName } : {}),
    // The run's overrides decide what the Jobs hold (an `--set env.X=...` may add or drop a valueFrom).
    ...(run.overrides ? { overrides: run.overrides } : {}),
  };
  const jobs =
    mode === 'single-job'
      ? [{ name: pipeline.uuid, prepare: () => blocks.preparePipelineJob(identity, snapshot) }]
      : pipeline.blocks.map((b) => ({
          name: b.uuid,
          prepare: () =>
            blocks.prepare(
              {
                ...identity,
                blockUuid: b.uuid,
                blockRunId: blockRunIdOf(run, b.uuid),
                attempt: 1,
                ...(run.blockOverrides?.[b.uuid] ? { blockOverrides: run.blockOverrides[b.uuid] } : {}),
              },
              snapshot,
            ),
        }));
  const byMessage = new Map<string, string[]>();
  for (const job of jobs) {
    const prepared = await job.prepare().catch(() => undefined);
    const container = prepared?.job.spec?.template.spec.containers[0];
    if (!container) continue;
    const pod = {
      metadata: { name: prepared.jobName, namespace: prepared.namespace, uid: '-' },
      spec: prepared.job.spec?.template.spec,
    };
    for (const message of containerEnv(container, {}, pod as LocalPodFields).skipped) {
      byMessage.set(message, [...(byMessage.get(message) ?? []), job.name]);
    }
  }
  return [...byMessage].map(([message, names]) => `${message.replace(/\.$/, '')} (${names.join(', ')}).`);
}
