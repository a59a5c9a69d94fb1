import { K8sExecutorError } from '../../errors/base.js';
import { type Clock, systemClock } from '../../ports/clock.js';
import type {
  CallOptions,
  DeleteOptions,
  JobClient,
  ListResult,
  LogOptions,
  WatchOptions,
} from '../../ports/job-client.js';
import type { Job, KubeEvent, Pod, WatchEvent } from '../../types/kube.js';
import { ProcessRunner } from './process-runner.js';
import { SimCluster } from './sim/sim-cluster.js';

/** Options of {@link LocalJobClient}. */
export interface LocalJobClientOptions {
  /** Time for timestamps, `activeDeadlineSeconds` and the kill grace. @default systemClock */
  clock?: Clock;
  /** Working directory of processes whose container sets no `workingDir` (the project directory). @default process.cwd() */
  cwd?: string;
  /** Extra variables for every process, on top of PATH and HOME (the container's `env` wins over them). */
  env?: Record<string, string>;
  /** Grace between SIGTERM and SIGKILL when a process group is stopped, in ms. @default 5_000 */
  killGraceMs?: number;
  /** How many processes run at once; other pods wait in `ContainerCreating`. @default unlimited */
  maxConcurrentProcesses?: number;
}

/**
 * The embedded local backend: a {@link JobClient} whose "cluster" runs in this process and whose pods
 * are child processes. Jobs, pods, watches, conditions (`Complete`, `Failed` with `BackoffLimitExceeded`
 * or `DeadlineExceeded`), retries up to `backoffLimit`, `activeDeadlineSeconds`, deletion, events and
 * logs behave as on a cluster; the first container's `command` + `args` run as a process group with a
 * minimal environment (PATH, HOME, HOSTNAME = the pod name, `options.env`, then the container's `env`
 * values). Not simulated: images, resources and limits, volumes, `valueFrom`/`envFrom` (skipped, with a
 * warning event `LocalSettingIgnored` on the pod), scheduling, sidecar containers.
 *
 * @example
 * const jobClient = new LocalJobClient({ cwd: projectDir, env: { MAGE_ENV: 'dev' } });
 * process.once('SIGINT', () => void jobClient.close()); // no process outlives the run
 * await jobClient.createJob('default', job); // then watch, read logs, delete: as on a cluster
 */
export class LocalJobClient implements JobClient {
  private readonly cluster: SimCluster;

  constructor(options: LocalJobClientOptions = {}) {
    const clock = options.clock ?? systemClock;
    const baseEnv: Record<string, string> = {};
    for (const name of ['PATH', 'HOME'] as const) {
      const value = process.env[name];
      if (value !== undefined) baseEnv[name] = value;
    }
    const runner = new ProcessRunner({
      clock,
      cwd: options.cwd ?? process.cwd(),
      baseEnv: { ...baseEnv, ...options.env },
      killGraceMs: options.killGraceMs ?? 5_000,
      maxConcurrentProcesses: options.maxConcurrentProcesses ?? Number.POSITIVE_INFINITY,
    });
    // No image is pulled locally, so a Job without one is fine here.
    this.cluster = new SimCluster({ clock, runner, requireImage: false });
  }

  /**
   * Creates a Job and starts its first pod as a child process (`dryRun`: validates only).
   *
   * @throws K8sExecutorError `LOCAL_NO_COMMAND` when the first container has no `command`: locally there
   *   is no image entrypoint to fall back on. Raised before anything is stored or run.
   * @throws ApiError `API_CONFLICT` when a Job of that name exists; `API_INVALID` for an invalid Job.
   */
  createJob(namespace: string, job: Job, options?: CallOptions & { dryRun?: boolean }): Promise<Job> {
    const container = job.spec?.template?.spec?.containers?.[0];
    if (container && !container.command?.length) {
      return Promise.reject(
        new K8sExecutorError(
          'LOCAL_NO_COMMAND',
          `Job "${job.metadata?.name}" cannot run on the local backend: its container "${container.name}" has no command, and there is no image entrypoint to fall back on locally.`,
          { hint: 'Set container.command (and args) in the block config, or run on a cluster.' },
        ),
      );
    }
    return this.cluster.createJob(namespace, job, options);
  }

  /** {@inheritDoc JobClient.getJob} */
  getJob(namespace: string, name: string, options?: CallOptions): Promise<Job | undefined> {
    return this.cluster.getJob(namespace, name, options);
  }

  /** {@inheritDoc JobClient.listJobs} */
  listJobs(namespace: string, labelSelector: string, options?: CallOptions): Promise<ListResult<Job>> {
    return this.cluster.listJobs(namespace, labelSelector, options);
  }

  /** {@inheritDoc JobClient.watchJobs} */
  watchJobs(
    namespace: string,
    onEvent: (event: WatchEvent<Job>) => void,
    options: WatchOptions,
  ): Promise<void> {
    return this.cluster.watchJobs(namespace, onEvent, options);
  }

  /**
   * Deletes a Job (Foreground by default; with `uid`, only that Job, else `API_CONFLICT`); its running
   * processes get SIGTERM, then SIGKILL after `killGraceMs`.
   */
  deleteJob(namespace: string, name: string, options?: DeleteOptions): Promise<boolean> {
    return this.cluster.deleteJob(namespace, name, options);
  }

  /** {@inheritDoc JobClient.listPods} */
  listPods(namespace: string, labelSelector: string, options?: CallOptions): Promise<ListResult<Pod>> {
    return this.cluster.listPods(namespace, labelSelector, options);
  }

  /** {@inheritDoc JobClient.watchPods} */
  watchPods(
    namespace: string,
    onEvent: (event: WatchEvent<Pod>) => void,
    options: WatchOptions,
  ): Promise<void> {
    return this.cluster.watchPods(namespace, onEvent, options);
  }

  /** {@inheritDoc JobClient.readPodLog} */
  readPodLog(namespace: string, pod: string, options?: LogOptions): Promise<string> {
    return this.cluster.readPodLog(namespace, pod, options);
  }

  /** {@inheritDoc JobClient.followPodLog} */
  followPodLog(
    namespace: string,
    pod: string,
    onLine: (line: string) => void,
    options?: LogOptions,
  ): Promise<void> {
    return this.cluster.followPodLog(namespace, pod, onLine, options);
  }

  /** {@inheritDoc JobClient.listWarningEvents} */
  listWarningEvents(
    namespace: string,
    object: { kind: 'Job' | 'Pod'; name: string; uid?: string },
    options?: CallOptions,
  ): Promise<KubeEvent[]> {
    return this.cluster.listWarningEvents(namespace, object, options);
  }

  /**
   * Stops every process still running (SIGTERM to each group, SIGKILL after the grace) and resolves
   * once all have exited; then ends the open watches. For Ctrl-C. No process starts after this.
   */
  close(): Promise<void> {
    return this.cluster.close();
  }
}
