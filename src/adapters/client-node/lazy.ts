/**
 * The light face of the client-node adapter: what `k8s-executor` exports, without loading
 * `@kubernetes/client-node` (nor undici) until a cluster is used. Importing this module loads only
 * types from the adapter; the adapter itself (`./index.js`) is imported on the first call that needs
 * the cluster.
 */
import type { ClusterInspector } from '../../ports/cluster-inspector.js';
import type { JobClient } from '../../ports/job-client.js';
import type { PodIntrospector, ServerPod } from '../../ports/pod-introspector.js';
import type { ApiCallStats } from './call-policy.js';
import type { ClientNodeOptions, LoadedClientNodeAdapters } from './index.js';

export type { ClientNodeOptions } from './index.js';
export type { ClientNodeJobClient } from './job-client.js';

/** What {@link createClientNodeAdapters} returns. */
export interface ClientNodeAdapters {
  /** The JobClient of the configured cluster (client-node is loaded on its first call). */
  jobClient: JobClient;
  /** Finds the pod this process runs in (client-node is loaded on its first call). */
  podIntrospector: PodIntrospector;
  /** Reads what `preflight` checks (client-node is loaded on its first call). */
  clusterInspector: ClusterInspector;
  /**
   * The kubeconfig context's namespace, else the in-cluster namespace, else `default`.
   * @throws K8sExecutorError `NO_CLUSTER` (the promise rejects) when no cluster is configured.
   */
  defaultNamespace(): Promise<string>;
  /** Request and retry counts so far, by `"<verb> <resource>"` (all zero until the first request). */
  apiCalls(): ApiCallStats;
}

/**
 * Wires the client-node adapters of a real cluster. Lazy: nothing is loaded, read or sent until the
 * first call of a port; then client-node is imported and the kubeconfig loaded, once, shared by both
 * ports (with the rate limit, the keep-alive connection pool, the refreshed credentials and the call
 * counts).
 *
 * @throws K8sExecutorError `NO_CLUSTER` (from the first call, not from here) when no kubeconfig or
 *   in-cluster service account exists; the message says what was looked for.
 * @example
 * const { jobClient, defaultNamespace } = createClientNodeAdapters({ context: 'staging', qps: 10 });
 * const jobs = await jobClient.listJobs(await defaultNamespace(), 'app.kubernetes.io/managed-by=k8s-executor');
 */
export function createClientNodeAdapters(options: ClientNodeOptions = {}): ClientNodeAdapters {
  let loading: Promise<LoadedClientNodeAdapters> | undefined;
  let loaded: LoadedClientNodeAdapters | undefined;
  const adapters = () => {
    loading ??= import('./index.js').then((m) => {
      loaded = m.createClientNodeAdapters(options);
      return loaded;
    });
    return loading;
  };
  return {
    jobClient: new LazyJobClient(async () => (await adapters()).jobClient, true),
    clusterInspector: new LazyClusterInspector(async () => (await adapters()).clusterInspector),
    podIntrospector: {
      currentPod: async (signal?: AbortSignal): Promise<ServerPod | undefined> =>
        (await adapters()).podIntrospector.currentPod(signal),
    },
    defaultNamespace: async () => (await adapters()).defaultNamespace(),
    apiCalls: () => loaded?.apiCalls() ?? { requests: 0, retries: 0, byCall: {}, retriesByCall: {} },
  };
}

/**
 * A JobClient that gets the real one on its first call. An ordinary object with exactly the JobClient
 * members: in particular it has no `then`, so it can be returned from an async function or resolve a
 * promise like any value.
 */
export class LazyJobClient implements JobClient {
  /**
   * @param real gets the real client (called on every call: cache the promise).
   * @param supportsWatchList what the real client's `supportsWatchList` is.
   */
  constructor(
    private readonly real: () => Promise<JobClient>,
    readonly supportsWatchList: boolean,
  ) {}

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

/** A ClusterInspector that gets the real one on its first call (an ordinary object, as {@link LazyJobClient}). */
class LazyClusterInspector implements ClusterInspector {
  /** @param real gets the real inspector (called on every call: cache the promise). */
  constructor(private readonly real: () => Promise<ClusterInspector>) {}

  async getNamespace(...args: Parameters<ClusterInspector['getNamespace']>) {
    return (await this.real()).getNamespace(...args);
  }
  async getServiceAccount(...args: Parameters<ClusterInspector['getServiceAccount']>) {
    return (await this.real()).getServiceAccount(...args);
  }
  async getSecretKeys(...args: Parameters<ClusterInspector['getSecretKeys']>) {
    return (await this.real()).getSecretKeys(...args);
  }
  async getConfigMapKeys(...args: Parameters<ClusterInspector['getConfigMapKeys']>) {
    return (await this.real()).getConfigMapKeys(...args);
  }
  async getPersistentVolumeClaim(...args: Parameters<ClusterInspector['getPersistentVolumeClaim']>) {
    return (await this.real()).getPersistentVolumeClaim(...args);
  }
  async listResourceQuotas(...args: Parameters<ClusterInspector['listResourceQuotas']>) {
    return (await this.real()).listResourceQuotas(...args);
  }
  async listLimitRanges(...args: Parameters<ClusterInspector['listLimitRanges']>) {
    return (await this.real()).listLimitRanges(...args);
  }
  async listNodes(...args: Parameters<ClusterInspector['listNodes']>) {
    return (await this.real()).listNodes(...args);
  }
  async reviewAccess(...args: Parameters<ClusterInspector['reviewAccess']>) {
    return (await this.real()).reviewAccess(...args);
  }
  async dryRunCreateJob(...args: Parameters<ClusterInspector['dryRunCreateJob']>) {
    return (await this.real()).dryRunCreateJob(...args);
  }
}
