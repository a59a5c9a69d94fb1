import type { Pod } from '../../../types/kube.js';

/** How a pod's main container ended. */
export interface ContainerExit {
  /** The exit code (128 + signal number when killed by a signal). */
  exitCode: number;
  /** The terminated reason: `Completed`, `Error`, `OOMKilled`, `StartError`... @default `Completed` for 0, else `Error` */
  reason?: string;
  /**
   * The terminated state's message: what the container wrote to its termination message file, or why
   * it could not start. The Job controller cuts it to 4096 bytes and, for a container that wrote
   * nothing and failed under `terminationMessagePolicy: FallbackToLogsOnError`, uses its log's end.
   */
  message?: string;
  /** A pod-level failure (such as `Evicted`): the pod fails with this reason whatever the exit code. */
  podFailure?: { reason: string; message: string };
  /**
   * The pod got a `DisruptionTarget=True` condition before it ended (preemption, an eviction through
   * the API, a node drain or taint, the pod garbage collector), with this reason and message.
   */
  disruption?: { reason: string; message: string };
}

/**
 * What a {@link PodRunner} reports about the pod it runs. Calls after `onExit` are ignored; so are
 * calls about a pod that no longer exists.
 */
export interface PodRunnerCallbacks {
  /** The pod cannot be scheduled (`PodScheduled=False`, reason `Unschedulable`). */
  onUnschedulable(message: string): void;
  /** The pod is scheduled and its container waits: `ContainerCreating`, `ImagePullBackOff`, ... */
  onWaiting(reason: string, message?: string): void;
  /** The container started. */
  onRunning(): void;
  /** One line of output (stdout or stderr), without its newline. */
  onLogLine(line: string): void;
  /** A warning worth an event on the pod (a setting the runner had to ignore, say). */
  onWarning(reason: string, message: string): void;
  /** The container ended. */
  onExit(exit: ContainerExit): void;
}

/** A pod being run. */
export interface RunningPod {
  /** Stops the container (the pod is being deleted). The runner must still call `onExit`. */
  kill(signal: NodeJS.Signals): void;
}

/** Runs the main container of the pods the simulated Job controller creates. */
export interface PodRunner {
  /** Starts running `pod` (a copy: the runner may keep it) and reports through `callbacks`. */
  start(pod: Pod, callbacks: PodRunnerCallbacks): RunningPod;
}
