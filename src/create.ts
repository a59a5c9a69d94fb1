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

/** Options of {@link createExecutors}. */
export interface CreateExecutorsOptions
  extends Omit<PipelineExecutorOptions, 'configSource' | 'jobClient' | 'podIntrospector' | 'watchHubs'> {
  /** The Mage project directory (holds `metadata.yaml` and `pipelines/`). */
  projectDir: string;
  /** `kubernetes`: the cluster of the kubeconfig; `local`: each Job's command as a child process. @default 'kubernetes' */
  backend?: 'kubernetes' | 'local';
  /** Kubeconfig file. @default KUBECONFIG, ~/.kube/config, else in-cluster */
  kubeconfigPath?: string;
  /** Kubeconfig context. @default the current context */
  context?: string;
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
  /** Stops the shared watches and (local backend) kills what still runs; resolves when it is all gone. */
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
 */
export function createExecutors(options: CreateExecutorsOptions): Executors {
  const clock: Clock = options.clock ?? systemClock;
  const env = options.env ?? process.env;
  const configSource = options.configSource ?? new FsConfigSource({ projectDir: options.projectDir, env });
  let jobClient: JobClient;
  let podIntrospector: PodIntrospector | undefined;
  let closeBackend: () => Promise<void> = () => Promise.resolve();
  if (options.backend === 'local') {
    const local = new LocalJobClient({
      clock,
      cwd: options.projectDir,
      ...(options.localEnv ? { env: options.localEnv } : {}),
    });
    jobClient = local;
    closeBackend = () => local.close();
  } else {
    const adapters = lazyClientNode(options, clock, env);
    jobClient = adapters.jobClient;
    if (options.inheritServerPod !== false) podIntrospector = adapters.podIntrospector;
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
  return {
    blocks: new K8sBlockExecutor(shared),
    pipelines: new K8sPipelineExecutor(shared),
    jobClient,
    async close() {
      watchHubs.close();
      await closeBackend();
    },
  };
}

type ClientNodeModule = typeof import('./adapters/client-node/index.js');

/** Ports whose first call loads client-node and the kubeconfig. */
function lazyClientNode(
  options: CreateExecutorsOptions,
  clock: Clock,
  env: Record<string, string | undefined>,
): { jobClient: JobClient; podIntrospector: PodIntrospector } {
  let loaded: Promise<ReturnType<ClientNodeModule['createClientNodeAdapters']>> | undefined;
  const adapters = () => {
    loaded ??= import('./adapters/client-node/index.js').then((m) =>
      m.createClientNodeAdapters({
        clock,
        env,
        ...(options.kubeconfigPath ? { kubeconfigPath: options.kubeconfigPath } : {}),
        ...(options.context ? { context: options.context } : {}),
      }),
    );
    return loaded;
  };
  const jobClient = new Proxy({} as JobClient, {
    get(_target, method: keyof JobClient) {
      return async (...args: unknown[]) => {
        const real = (await adapters()).jobClient;
        return (real[method] as (...a: unknown[]) => unknown).apply(real, args);
      };
    },
  });
  const podIntrospector: PodIntrospector = {
    currentPod: async (signal?: AbortSignal): Promise<ServerPod | undefined> =>
      (await adapters()).podIntrospector.currentPod(signal),
  };
  return { jobClient, podIntrospector };
}
