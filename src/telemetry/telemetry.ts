import type { ErrorCode } from '../errors/codes.js';

/** A pipeline run, as telemetry names it. */
export interface TelemetryPipelineRun {
  /** The pipeline's uuid. */
  pipelineUuid: string;
  /** The pipeline run id. */
  pipelineRunId: string;
  /** `dag` (one Job per block) or `single-job` (the whole pipeline as one Job). */
  mode: 'dag' | 'single-job';
}

/** One attempt of one block (one Job), as telemetry names it. */
export interface TelemetryAttempt {
  /** The pipeline's uuid. */
  pipelineUuid: string;
  /** The pipeline run id. */
  pipelineRunId: string;
  /** Absent for a whole-pipeline (single-job) run. */
  blockUuid?: string;
  /** The attempt, 1 for the first try. */
  attempt: number;
  /** The attempt's Job. */
  jobName: string;
  /** The Job's namespace. */
  namespace: string;
}

/** How an attempt ended. */
export interface TelemetryAttemptOutcome {
  /** The final status. */
  status: 'succeeded' | 'failed' | 'cancelled';
  /** Why it failed or was cancelled: a stable code (docs/errors.md). */
  reason?: ErrorCode;
  /** The main container's exit code, when it terminated. */
  exitCode?: number;
  /** One sentence about the reason. */
  message?: string;
}

/** The open span of a pipeline run. */
export interface PipelineRunTelemetry {
  /** The run ended (`at`: the Clock's time). */
  end(outcome: { status: 'succeeded' | 'failed' | 'cancelled' }, at: number): void;
}

/** The open span of one attempt. */
export interface AttemptTelemetry {
  /** The attempt entered a phase (`submitted`, `adopted`, `queued`, `pending`, `running`, ...). */
  phase(phase: string, at: number): void;
  /** Its final state was seen `latencyMs` after Kubernetes wrote it (undefined when unknown). */
  detected(latencyMs: number | undefined): void;
  /** The attempt ended. */
  end(outcome: TelemetryAttemptOutcome, at: number): void;
}

/**
 * What the executors report for traces and metrics: a span per pipeline run and per block attempt, and
 * counters of outcomes, API requests, rate-limiter waits and watch reconnects. The SDK reports to
 * OpenTelemetry when `@opentelemetry/api` is installed (see docs/telemetry.md); implement this interface to
 * send the same facts elsewhere. Implementations must not throw (a throw is caught and reported once).
 */
export interface Telemetry {
  /** A pipeline run starts. */
  startPipelineRun(run: TelemetryPipelineRun, at: number): PipelineRunTelemetry;
  /** One block attempt starts (before its create request), inside `parent` when it belongs to a run. */
  startAttempt(attempt: TelemetryAttempt, at: number, parent?: PipelineRunTelemetry): AttemptTelemetry;
  /** An API request ended: its HTTP status, or undefined when no answer came (reset, timeout). */
  recordApiRequest(request: { verb: string; resource: string; status?: number }): void;
  /** How long a request waited for the client-side rate limiter, in ms (only waits > 0). */
  recordRateLimitWait(ms: number): void;
  /** One reconnect of a shared watch (after a failure, a silent watch or a 410). */
  recordWatchReconnect(resource: 'jobs' | 'pods'): void;
}

/** An attempt handle that records nothing. */
export const NOOP_ATTEMPT: AttemptTelemetry = Object.freeze({ phase() {}, detected() {}, end() {} });
/** A pipeline-run handle that records nothing. */
export const NOOP_RUN: PipelineRunTelemetry = Object.freeze({ end() {} });

/** Telemetry that records nothing (what runs when `@opentelemetry/api` is not installed). */
export const NOOP_TELEMETRY: Telemetry = Object.freeze({
  startPipelineRun: () => NOOP_RUN,
  startAttempt: () => NOOP_ATTEMPT,
  recordApiRequest() {},
  recordRateLimitWait() {},
  recordWatchReconnect() {},
});
