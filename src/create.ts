import type { ClientNodeOptions } from './adapters/client-node/index.js';
import { FsConfigSource } from './adapters/fs/fs-config-source.js';
import { LocalJobClient } from './adapters/local/local-job-client.js';
import { K8sBlockExecutor } from './executor/block-executor.js';
import { K8sPipelineExecutor, type PipelineExecutorOptions } from './executor/pipeline-executor.js';
import { type HubEvent, WatchHubs } from './monitor/watch-hub.js';
import { managedSelector } from './naming/labels.js';
import { type Clock, systemClock } from './ports/clock.js';
import type { ConfigSource } from './ports/config-source.js';
import type { JobClient } from './ports/job-client.js';
import type { PodIntrospector, ServerPod } from './ports/pod-introspector.js';

/**
 * Options of {@link createExecutors}: the executors' settings, the backend, and (Kubernetes backend) every
 * setting of the client-node adapter ({@link ClientNodeOptions}: `kubeconfigPath`, `context`, `qps`,
 * `burst`, `retry`, `requestTimeoutMs`, ...), passed through as given, so a setting the adapter gains
 * later needs no change here. The factory supplies the adapter's clock and environment itself.
 */
export interface CreateExecutorsOptions
  extends Omit<PipelineExecutorOptions, 'configSource' | 'jobClient' | 'watchHubs'>,
    Omit<ClientNodeOptions, 'clock' | 'env'> {
  /** The Mage project directory (holds `metadata.yaml` and `pipelines/`). */
  projectDir: string;
  /** `kubernetes`: the cluster of the kubeconfig; `local`: each Job's command as a child process. @default 'kubernetes' */
  backend?: 'kubernetes' | 'local';
  /**
   * The JobClient to use instead of the backend's, e.g. `InMemoryJobClient` of `k8s-executor/testing` to test
   * an orchestrator built on this factory. With one, `backend` and the client-node settings are not used, no
   * server pod is inherited unless `podIntrospector` is given, and `close()` leaves the client to its owner.
   */
  jobClient?: JobClient;
  /** The environment config reads (`K8S_CONFIG_FILE`, `MAGE_CLUSTER_UUID`, `env_var()`, ...). @default process.env */
  env?: Record<string, string | undefined>;
  /** Inherit from the pod this process runs in (Kubernetes backend only). @default true */
  inheritServerPod?: boolean;
  /** Extra environment for local child processes (local backend only). */
  localEnv?: Record<string, string>;
  /** Where config comes from. @default an `FsConfigSource` over `projectDir` */
  configSource?: ConfigSource;
  /** Diagnostics of the shared watches: relists, reconnects, poll fallback, API errors (a forbidden `watch`...). */
  onHubEvent?: (event: HubEvent) => void;
}

/** Executors wired to the real adapters, sharing one set of watches. */
export interface Executors {
  blocks: K8sBlockExecutor;
  pipelines: K8sPipelineExecutor;
  /** The JobClient both use. */
  jobClient: JobClient;
  /**
   * A shutdown, not a cancel: pipeline runs in flight resolve at once (`closed: true`) and their Jobs
   * are left running to be adopted by the next run; stops the shared watches and (local backend) kills
   * what still runs; resolves when it is all gone.
   */
  close(): Promise<void>;
}

/**
 * The one production factory: wires the project reader, the Kubernetes (or local) JobClient and the
 * pod introspector. Nothing is read or connected until the first run: the Kubernetes client is loaded
 * on first use, so `render`-style work never touches a cluster.
 *
 * @example
 * const { pipelines, close } = createExecutors({ projectDir: './my_project', backend: 'local' });
 * const result = await pipelines.run({ pipelineUuid: 'etl', pipelineRunId: 1 });
 * await close();
 * @example
 * // On a cluster, with a lower client-side rate limit:
 * const executors = createExecutors({ projectDir: './my_project', context: 'staging', qps: 5, burst: 10 });
 */
export function createExecutors(options: CreateExecutorsOptions): Executors {
  const clock: Clock = options.clock ?? systemClock;
  const env = options.env ?? process.env;
  const configSource = options.configSource ?? new FsConfigSource({ projectDir: options.projectDir, env });
  let jobClient: JobClient;
  let podIntrospector = options.podIntrospector;
  let closeBackend: () => Promise<void> = () => Promise.resolve();
  if (options.jobClient) {
    jobClient = options.jobClient;
  } else if (options.backend === 'local') {
    const local = new LocalJobClient({
      clock,
      cwd: options.projectDir,
      ...(options.localEnv ? { env: options.localEnv } : {}),
    });
    jobClient = local;
    closeBackend = () => local.close();
  } else {
    const adapters = lazyClientNode({ ...options, clock, env });
    jobClient = adapters.jobClient;
    if (options.inheritServerPod !== false) podIntrospector ??= adapters.podIntrospector;
  }
  const watchHubs = new WatchHubs({
    jobClient,
    clock,
    labelSelector: managedSelector(),
    ...(options.onHubEvent ? { onHubEvent: options.onHubEvent } : {}),
  });
  const shared = {
    ...options,
    clock,
    configSource,
    jobClient,
    watchHubs,
    ...(podIntrospector ? { podIntrospector } : {}),
  };
  const blocks = new K8sBlockExecutor(shared);
  const pipelines = new K8sPipelineExecutor(shared);
  return {
    blocks,
    pipelines,
    jobClient,
    async close() {
      // Runs in flight learn of the shutdown before their watches go, so none mistakes it for a failure.
      pipelines.close();
      blocks.close();
      watchHubs.close();
      await closeBackend();
    },
  };
}

type ClientNodeAdapters = ReturnType<
  typeof import('./adapters/client-node/index.js')['createClientNodeAdapters']
>;

/**
 * Ports whose first call loads client-node and the kubeconfig. Every option is handed to the adapter,
 * which reads only its own settings.
 */
function lazyClientNode(options: ClientNodeOptions): {
  jobClient: JobClient;
  podIntrospector: PodIntrospector;
} {
  let loaded: Promise<ClientNodeAdapters> | undefined;
  const adapters = () => {
    loaded ??= import('./adapters/client-node/index.js').then((m) => m.createClientNodeAdapters(options));
    return loaded;
  };
  const podIntrospector: PodIntrospector = {
    currentPod: async (signal?: AbortSignal): Promise<ServerPod | undefined> =>
      (await adapters()).podIntrospector.currentPod(signal),
  };
  return { jobClient: new LazyJobClient(async () => (await adapters()).jobClient), podIntrospector };
}

/**
 * A JobClient that gets the real one on its first call. An ordinary object with exactly the JobClient
 * methods: in particular it has no `then`, so it can be returned from an async function or resolve a
 * promise like any value.
 */
class LazyJobClient implements JobClient {
  constructor(private readonly real: () => Promise<JobClient>) {}

  async createJob(...args: Parameters<JobClient['createJob']>) {
    return (await this.real()).createJob(...args);
  }
  async getJob(...args: Parameters<JobClient['getJob']>) {
    return (await this.real()).getJob(...args);
  }
  async listJobs(...args: Parameters<JobClient['listJobs']>) {
    return (await this.real()).listJobs(...args);
  }
  async watchJobs(...args: Parameters<JobClient['watchJobs']>) {
    return (await this.real()).watchJobs(...args);
  }
  async deleteJob(...args: Parameters<JobClient['deleteJob']>) {
    return (await this.real()).deleteJob(...args);
  }
  async listPods(...args: Parameters<JobClient['listPods']>) {
    return (await this.real()).listPods(...args);
  }
  async watchPods(...args: Parameters<JobClient['watchPods']>) {
    return (await this.real()).watchPods(...args);
  }
  async readPodLog(...args: Parameters<JobClient['readPodLog']>) {
    return (await this.real()).readPodLog(...args);
  }
  async followPodLog(...args: Parameters<JobClient['followPodLog']>) {
    return (await this.real()).followPodLog(...args);
  }
  async listWarningEvents(...args: Parameters<JobClient['listWarningEvents']>) {
    return (await this.real()).listWarningEvents(...args);
  }
}
