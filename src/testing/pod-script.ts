import type {
  ContainerExit,
  PodRunner,
  PodRunnerCallbacks,
  RunningPod,
} from '../adapters/local/sim/pod-runner.js';
import type { Clock } from '../ports/clock.js';
import type { Pod } from '../types/kube.js';

/**
 * What one pod of an {@link InMemoryJobClient} Job does, step by step on the clock: unschedulable →
 * pending (`ContainerCreating`) → waiting (a reason such as `ImagePullBackOff`) → running (logs) → exit.
 * A Job's pods take the scripts in order (attempt 1, 2, ...); the last script repeats.
 * `{}` is a pod that starts and succeeds at once.
 *
 * @example
 * // fails twice with exit code 1, then succeeds after 5 s with two log lines
 * client.script('mage-data-prep-block-42', [{ exitCode: 1 }, { exitCode: 1 }, { runMs: 5_000, logs: ['a', 'b'] }]);
 */
export interface PodScript {
  /** Stay Pending (`ContainerCreating`) this long first. @default 0 */
  pendingMs?: number;
  /** Then wait with this container reason (`ImagePullBackOff`, `CreateContainerConfigError`...); forever without `forMs`. */
  waiting?: { reason: string; message?: string; forMs?: number };
  /** Before anything else, stay unschedulable (`PodScheduled=False`, `Unschedulable`); forever without `forMs`. */
  unschedulable?: { message: string; forMs?: number };
  /** Stay Running this long. @default 0 */
  runMs?: number;
  /** Log lines, spread evenly over `runMs` (the first one as the container starts). */
  logs?: string[];
  /** The exit code. @default 0 */
  exitCode?: number;
  /** End as OOMKilled: terminated reason `OOMKilled`, exit code 137. */
  oomKilled?: boolean;
  /** End evicted: pod phase Failed, reason `Evicted`, with this message. */
  evicted?: { message: string };
  /**
   * End disrupted: the pod gets a `DisruptionTarget=True` condition with this reason
   * (`PreemptionByScheduler`, `EvictionByEvictionAPI`, `DeletionByTaintManager`, `DeletionByPodGC`,
   * `TerminationByKubelet`) and its container stops as with SIGTERM (exit code 143).
   */
  disrupted?: { reason: string; message?: string };
  /**
   * What the container writes to its termination message file (`terminationMessagePath`): it becomes
   * the terminated state's message (cut to 4096 bytes), as the kubelet reports it.
   */
  terminationMessage?: string;
  /** Run until killed (for deadlines and cancellation). */
  hang?: boolean;
  /**
   * How long the container takes to stop once asked to (SIGTERM: its pod is deleted, its Job deleted
   * or suspended), going on with its script meanwhile, as a container finishing its current work within
   * its grace period. SIGKILL stops it at once. @default 0
   */
  stopMs?: number;
}

/** Signal numbers of the signals a pod can be stopped with. */
const SIGNAL_NUMBERS: Partial<Record<NodeJS.Signals, number>> = { SIGTERM: 15, SIGKILL: 9, SIGINT: 2 };

/**
 * A {@link PodRunner} that plays {@link PodScript}s on a {@link Clock}: with a fake clock, nothing
 * happens until the test advances time. Killing a pod ends it at once with `128 + signal`.
 */
export class ScriptedPodRunner implements PodRunner {
  private readonly attempts = new Map<string, number>();

  /**
   * @param clock drives every step.
   * @param scriptsFor the scripts of a Job's pods, by Job name.
   */
  constructor(
    private readonly clock: Clock,
    private readonly scriptsFor: (jobName: string) => readonly PodScript[],
  ) {}

  start(pod: Pod, callbacks: PodRunnerCallbacks): RunningPod {
    const labels = pod.metadata.labels ?? {};
    const jobUid = labels['batch.kubernetes.io/controller-uid'] ?? '';
    const attempt = (this.attempts.get(jobUid) ?? 0) + 1;
    this.attempts.set(jobUid, attempt);
    const scripts = this.scriptsFor(labels['batch.kubernetes.io/job-name'] ?? '');
    const script = scripts[Math.min(attempt, scripts.length) - 1] ?? {};

    const stop = new AbortController();
    const clock = this.clock;
    let killedBy: NodeJS.Signals = 'SIGKILL';
    let stopping = false;
    let ended = false;
    const end = (exit: ContainerExit) => {
      if (ended) return;
      ended = true;
      callbacks.onExit(exit);
    };
    void play(script, callbacks, this.clock, stop.signal).then(end, () =>
      end({ exitCode: 128 + (SIGNAL_NUMBERS[killedBy] ?? 9), reason: 'Error' }),
    );
    const kill = (signal: NodeJS.Signals) => {
      killedBy = signal;
      stop.abort(new Error(`pod ${pod.metadata.name} killed with ${signal}`));
    };
    return {
      kill(signal) {
        const graceMs = script.stopMs ?? 0;
        if (signal === 'SIGKILL' || graceMs <= 0) {
          kill(signal);
          return;
        }
        if (stopping) return;
        stopping = true;
        void clock.sleep(graceMs).then(() => kill(signal));
      },
    };
  }
}

/** Plays one script; rejects when `signal` aborts (the pod was killed). */
async function play(
  script: PodScript,
  callbacks: PodRunnerCallbacks,
  clock: Clock,
  signal: AbortSignal,
): Promise<ContainerExit> {
  const wait = async (ms: number | undefined) => {
    signal.throwIfAborted();
    if (ms === undefined) await forever(signal);
    else if (ms > 0) await clock.sleep(ms, signal);
    else await Promise.resolve();
    signal.throwIfAborted();
  };
  if (script.unschedulable) {
    callbacks.onUnschedulable(script.unschedulable.message);
    await wait(script.unschedulable.forMs);
  }
  callbacks.onWaiting('ContainerCreating');
  await wait(script.pendingMs ?? 0);
  if (script.waiting) {
    callbacks.onWaiting(script.waiting.reason, script.waiting.message);
    await wait(script.waiting.forMs);
  }
  callbacks.onRunning();
  const logs = script.logs ?? [];
  const runMs = script.runMs ?? 0;
  // Whole milliseconds, the last step taking the remainder, so that advancing by runMs ends the run exactly.
  const step = logs.length > 0 ? Math.floor(runMs / logs.length) : 0;
  for (const [i, line] of logs.entries()) {
    callbacks.onLogLine(line);
    await wait(i < logs.length - 1 ? step : runMs - step * i);
  }
  if (logs.length === 0) await wait(runMs);
  if (script.hang) await wait(undefined);
  if (script.evicted) {
    return {
      exitCode: 137,
      reason: 'ContainerStatusUnknown',
      message: 'The container could not be located when the pod was terminated',
      podFailure: { reason: 'Evicted', message: script.evicted.message },
    };
  }
  if (script.disrupted) {
    const { reason, message } = script.disrupted;
    return { exitCode: 143, reason: 'Error', disruption: { reason, message: message ?? reason } };
  }
  const written = script.terminationMessage !== undefined ? { message: script.terminationMessage } : {};
  if (script.oomKilled) return { exitCode: 137, reason: 'OOMKilled', ...written };
  return { exitCode: script.exitCode ?? 0, ...written };
}

function forever(signal: AbortSignal): Promise<never> {
  return new Promise<never>((_, reject) => {
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}
