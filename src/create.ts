import type { ApiObserver } from './adapters/client-node/kube-api.js';
import { type ClientNodeOptions, createClientNodeAdapters } from './adapters/client-node/lazy.js';
import { FsConfigSource } from './adapters/fs/fs-config-source.js';
import { LocalJobClient } from './adapters/local/local-job-client.js';
import { isolateCallback, wrapping } from './errors/isolate-callback.js';
import { K8sBlockExecutor, reconnectsTo } from './executor/block-executor.js';
import { K8sPipelineExecutor, type PipelineExecutorOptions } from './executor/pipeline-executor.js';
import { type WatchHubSettings, WatchHubs } from './monitor/watch-hub.js';
import { managedSelector } from './naming/labels.js';
import { type Clock, systemClock } from './ports/clock.js';
import type { ConfigSource } from './ports/config-source.js';
import type { JobClient } from './ports/job-client.js';
import { LazyTelemetry } from './telemetry/lazy-telemetry.js';

/**
 * Options of {@link createExecutors}: the executors' settings, the backend, the settings of the shared
 * watches ({@link WatchHubSettings}: `idleTimeoutMs`, `silentWatchMs`, `unlistableTimeoutMs`,
 * `pollIntervalMs`, `reconnect`, `watchTimeoutSeconds`, `onHubEvent`), and (Kubernetes backend) every
 * setting of the client-node adapter ({@link ClientNodeOptions}: `kubeconfigPath`, `context`, `qps`,
 * `burst`, `retry`, `requestTimeoutMs`, ...), both passed through as given, so a setting they gain
 * later needs no change here. The factory supplies the adapter's clock and environment itself.
 */
export interface CreateExecutorsOptions
  extends Omit<PipelineExecutorOptions, 'configSource' | 'jobClient' | 'watchHubs'>,
    Omit<ClientNodeOptions, 'clock' | 'env'>,
    WatchHubSettings {
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
}

/** Executors wired to the real adapters, sharing one set of watches. */
export interface Executors {
  /** Runs one block (or a whole pipeline as one Job) as a Job. */
  blocks: K8sBlockExecutor;
  /** Runs whole pipelines: one Job per block as a DAG, or the whole pipeline as one Job. */
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
  // The factory's own traffic metrics (API requests, rate-limiter waits, watch reconnects).
  const telemetry = new LazyTelemetry(options.telemetry);
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
    // Every option goes to the adapter, which reads only its own settings; client-node loads on first use.
    const adapters = createClientNodeAdapters({
      ...options,
      clock,
      env,
      observer: withTelemetry(options.observer, telemetry),
    });
    jobClient = adapters.jobClient;
    if (options.inheritServerPod !== false) podIntrospector ??= adapters.podIntrospector;
  }
  // The hubs read their own settings (WatchHubSettings) among the options, as the adapter does.
  const reconnects = reconnectsTo(telemetry);
  const userHubEvents = isolateCallback('onHubEvent', options.onHubEvent);
  const watchHubs = new WatchHubs({
    ...options,
    jobClient,
    clock,
    labelSelector: managedSelector(),
    onHubEvent: (event) => {
      reconnects(event);
      userHubEvents?.(event);
    },
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

/** `method` called on `owner`, warning as `method` itself would (see `wrapping`). */
function bound<A extends unknown[]>(
  owner: object | undefined,
  method: ((...args: A) => unknown) | undefined,
): ((...args: A) => unknown) | undefined {
  return method ? wrapping(method.bind(owner), method) : undefined;
}

/** The caller's observer of API traffic (if any), then the telemetry's counters. */
function withTelemetry(user: ApiObserver | undefined, telemetry: LazyTelemetry): ApiObserver {
  const onRequest = isolateCallback('telemetry', bound(user, user?.onRequest));
  const onRateLimitWait = isolateCallback('telemetry', bound(user, user?.onRateLimitWait));
  return {
    onRequest: (request) => {
      onRequest?.(request);
      telemetry.deferred.recordApiRequest(request);
    },
    onRateLimitWait: (ms) => {
      onRateLimitWait?.(ms);
      telemetry.deferred.recordRateLimitWait(ms);
    },
  };
}
