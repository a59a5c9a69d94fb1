/**
 * Who a Job runs for. Every field is part of the Job's identity labels and annotations, and the
 * block/pipeline run ids and the attempt make the Job name.
 */
export interface RunIdentity {
  /** The pipeline's uuid (its folder name under `pipelines/`). */
  pipelineUuid: string;
  /** The pipeline run id assigned by the orchestrator. */
  pipelineRunId: string;
  /** The block's uuid; absent for a whole-pipeline (single-job) run. */
  blockUuid?: string;
  /** The block run id assigned by the orchestrator; absent for a whole-pipeline run. */
  blockRunId?: string;
  /** The trigger (schedule) name, used by `{trigger_name}` in the job name prefix. */
  triggerName?: string;
  /** 1 for the first try, 2 for the first retry, and so on. @default 1 */
  attempt?: number;
}
