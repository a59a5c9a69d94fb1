import { IDENTITY_KEYS, managedSelector, toLabelValue } from '../naming/labels.js';
import type { DagContext } from './dag-context.js';

/** The label selector of every Job of this pipeline run. */
export function runSelector(ctx: DagContext): string {
  return [
    managedSelector(ctx.clusterId),
    `${IDENTITY_KEYS.pipelineRunId}=${toLabelValue(String(ctx.request.pipelineRunId))}`,
  ].join(',');
}
