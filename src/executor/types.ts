import type { ConfigOverrides } from '../config/overrides.js';
import type { ErrorCode } from '../errors/codes.js';
import type { InfrastructureCause } from '../monitor/job-outcome.js';
import type { BlockPhase, BlockState, TimeInterval } from '../monitor/types.js';
import type { PipelineRunTelemetry } from '../telemetry/telemetry.js';

/** One block run, as the orchestrator knows it. */
export interface BlockRun {
  /** The pipeline's uuid. */
  pipelineUuid: string;
  /** The block's uuid within the pipeline. */
  blockUuid: string;
  /** The pipeline run id. */
  pipelineRunId: string | number;
  /** The block run id; with the attempt, it makes the Job name. */
  blockRunId: string | number;
  /** The trigger's name, for `{trigger_name}` in the job name prefix. */
  triggerName?: string;
  /** 1 for the first try. @default 1 */
  attempt?: number;
  /** Run variables for `{{ variables('x') }}` and `{{ x }}` templates. */
  variables?: Readonly<Record<string, unknown>>;
  /** The container command; overrides `container.command` of the config. */
  command?: string[];
  /** The container args; overrides `container.args` of the config. */
  args?: string[];
  /**
   * Runtime overrides (the CLI's `--set`, Metaflow's `--with kubernetes:cpu=4`): a config layer above the
   * block's and below an enforced policy, e.g. `{ cpu: 4, 'container.resources.limits.memory': '8Gi' }`.
   */
  overrides?: ConfigOverrides;
  /**
   * More overrides, as a layer of their own above {@link BlockRun.overrides} (so maps and env merge between the
   * two as between layers): what a pipeline run's `blockOverrides` (`--set-block`) gives this block.
   */
  blockOverrides?: ConfigOverrides;
}

/** A whole pipeline run as one Job (Mage's pipeline executor). */
export interface PipelineJobRun {
  /** The pipeline's uuid. */
  pipelineUuid: string;
  /** The pipeline run id; with the attempt, it makes the Job name. */
  pipelineRunId: string | number;
  /** The trigger's name, for `{trigger_name}` in the job name prefix. */
  triggerName?: string;
  /** 1 for the first try. @default 1 */
  attempt?: number;
  /** Run variables for `{{ variables('x') }}` and `{{ x }}` templates. */
  variables?: Readonly<Record<string, unknown>>;
  /** The container command; overrides `container.command` of the config. */
  command?: string[];
  /** The container args; overrides `container.args` of the config. */
  args?: string[];
  /** Runtime overrides, as for a block run (there is no block layer: they sit above the pipeline's). */
  overrides?: ConfigOverrides;
}

/** One line of a pod's log, tagged with where it came from. */
export interface LogLine {
  /** The Job it belongs to. */
  jobName: string;
  /** The pod that printed it (a retried Job has several). */
  podName: string;
  /** The text, without the trailing newline. */
  line: string;
}

/**
 * When a block run went through its phases, in ms since the epoch (from the Clock). The queue fields are
 * set only for a Job that was seen suspended (`queued`: Kueue held it, or held it again after a preemption).
 */
export interface BlockTimings {
  /** When the Job was created (or adopted). */
  submittedAt: number;
  /** When its first container started, when one did. */
  startedAt?: number;
  /** When its final state was seen (or the run was cancelled). */
  finishedAt: number;
  /** `finishedAt - submittedAt`. */
  durationMs: number;
  /** Every interval the Job was suspended, in order: one per time it was queued (a preempted Job has several). */
  queued?: TimeInterval[];
  /** The total length of {@link BlockTimings.queued}: the time the block waited in its queue. */
  queuedMs?: number;
  /** When the Job first left the queue (was admitted); absent when it never did. */
  admittedAt?: number;
  /**
   * When Kubernetes wrote the Job's final condition (its `lastTransitionTime`, the API server's clock, to
   * the second); `finishedAt` is when the executor saw it. Absent when unknown (a cancel, a fail-fast reason).
   */
  finalConditionAt?: number;
}

/** A block's lifecycle event, for progress displays and metrics. */
export interface BlockEvent {
  /**
   * What happened. `adopted` = the Job already existed for this run (resume) and is being followed;
   * `queued` = the Job is suspended (a queue such as Kueue holds it, or preempted it), `pending` = admitted
   * or created, no container running yet.
   */
  type: 'submitted' | 'adopted' | BlockPhase | 'cancelled';
  /** The Job's name. */
  jobName: string;
  /** The Job's namespace. */
  namespace: string;
  /** The clock's time of the event. */
  at: number;
  /** The monitor's state at that moment (absent for `submitted`/`adopted`/`cancelled`). */
  state?: BlockState;
}

/**
 * Options of one execution, read once when the call starts (own or inherited properties). The callbacks
 * are called as plain functions, without `this`: bind a class's methods, or pass arrow functions.
 */
export interface ExecuteOptions {
  /**
   * Cancels the run: the Job this run created or adopted (and no other) is deleted, Foreground, and the
   * result is `cancelled`, its message saying what became of the Job. Once the Job's final state was
   * seen a cancel changes no outcome: the result keeps its status, exit code and output.
   */
  signal?: AbortSignal;
  /** Called on each lifecycle event. A throw is reported once (a process warning) and changes nothing. */
  onEvent?: (event: BlockEvent) => void;
  /**
   * Receives each log line of the pods once, in order, while they run (across retried pods and across
   * cut streams, which are resumed). A throw is reported once (a process warning) and changes nothing.
   */
  onLog?: (line: LogLine) => void;
  /**
   * Called once, the moment the monitor sees the Job's final state (`succeeded` or `failed`), with
   * everything known then: before the log drain (`logDrainMs`), the diagnostics and the cleanup, which
   * still land in the result `execute()` resolves with. An orchestrator can start what depends on a
   * success right away (the pipeline executor does). Not called for a run that is cancelled before its
   * final state or that rejects. A throw is reported once (a process warning) and changes nothing.
   */
  onDetected?: (detection: BlockDetection) => void;
  /**
   * The pipeline run this attempt belongs to, for telemetry: its attempt span is made a child of that run's
   * span. Set by {@link K8sPipelineExecutor}; an orchestrator with its own runs may pass the handle of
   * `telemetry.startPipelineRun(...)`.
   */
  telemetryParent?: PipelineRunTelemetry;
  /** Keep the Job after it finished (for debugging). @default false */
  keepJob?: boolean;
}

/** A warning event captured before cleanup. */
export interface WarningEvent {
  /** `Job/<name>` or `Pod/<name>`. */
  object: string;
  /** The event's reason (`FailedScheduling`, `BackOff`, ...). */
  reason: string;
  /** The event's message. */
  message: string;
  /** How many times it happened. */
  count: number;
}

/**
 * What is known of a block run the moment its Job's final state is seen (see
 * {@link ExecuteOptions.onDetected}): the outcome, without the diagnostics captured after it.
 */
export interface BlockDetection {
  /** The final status. */
  status: 'succeeded' | 'failed';
  /** The Job's name. */
  jobName: string;
  /** The Job's namespace. */
  namespace: string;
  /** Why it failed (in a result: or was cancelled); a stable code, see docs/errors.md. */
  reason?: ErrorCode;
  /** One clear sentence about the reason. */
  message?: string;
  /** The main container's exit code, when it terminated. */
  exitCode?: number;
  /** True when an existing Job of this run was adopted instead of created. */
  adopted: boolean;
  /** Pods that failed before the end (retries used by `backoffLimit`). */
  failedPods: number;
  /** Timings, in ms since the epoch (from the Clock). */
  timings: BlockTimings;
  /**
   * The main container's termination message (`state.terminated.message`): what the block wrote to its
   * `terminationMessagePath` (`/dev/termination-log`), or, with `terminationMessagePolicy:
   * FallbackToLogsOnError` and a failed container that wrote nothing, the end of its log. At most 4096
   * bytes (Kubernetes' own bound per container; a longer one is cut to that). Absent when empty.
   */
  terminationMessage?: string;
  /**
   * The termination message of a succeeded block parsed as JSON (an object, an array or a scalar): a
   * small result for what runs next. Absent when the block failed, wrote no message, or the message is
   * not JSON. Bounded by the termination message: at most 4096 bytes of JSON.
   */
  output?: unknown;
  /**
   * Set when a succeeded block's termination message looks like a JSON document (starts with `{` or
   * `[`) but does not parse (often: cut at 4096 bytes): why there is no `output`.
   */
  outputError?: string;
  /**
   * Set when the block failed because the cluster ended its pod (preemption, eviction, node drain,
   * node lost; see docs/pipelines.md): the reason code stays as precise as ever, this says why.
   */
  infrastructure?: InfrastructureCause;
}

/** How a block run ended. */
export interface BlockResult extends Omit<BlockDetection, 'status'> {
  /** The final status. */
  status: 'succeeded' | 'failed' | 'cancelled';
  /** The last log lines of the newest pod (captured before cleanup). */
  lastLogLines: string[];
  /**
   * Set when `lastLogLines` come from another container than the block's own: the container the
   * failure is about, e.g. an init container that failed (the block's container then never ran).
   */
  lastLogContainer?: string;
  /** Warning events of the Job and its pods (captured before cleanup, on failure). */
  warningEvents: WarningEvent[];
  /**
   * Set when deleting the Job failed, or a cancelled create had not settled: something may be left to
   * delete by hand (the run's outcome stands).
   */
  cleanupError?: string;
}
