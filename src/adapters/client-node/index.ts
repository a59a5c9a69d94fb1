import type { Clock } from '../../ports/clock.js';
import type { ClusterInspector } from '../../ports/cluster-inspector.js';
import type { JobClient } from '../../ports/job-client.js';
import type { PodIntrospector } from '../../ports/pod-introspector.js';
import type { RetryOptions } from './backoff.js';
import type { ApiCallStats } from './call-policy.js';
import { ClientNodeClusterInspector } from './cluster-inspector.js';
import { ClientNodeJobClient } from './job-client.js';
import { type ApiObserver, KubeApi } from './kube-api.js';
import { type LoadedKubeconfig, loadKubeconfig } from './kubeconfig.js';
import { ClientNodePodIntrospector } from './pod-introspector.js';

export { DEFAULT_RETRY_OPTIONS, ExponentialBackoff, type RetryOptions } from './backoff.js';
export type { ApiCallStats } from './call-policy.js';
export { ClientNodeClusterInspector } from './cluster-inspector.js';
export { ClientNodeJobClient } from './job-client.js';
export { type ApiObserver, KubeApi, type KubeApiOptions } from './kube-api.js';
export { type KubeconfigOptions, type LoadedKubeconfig, loadKubeconfig } from './kubeconfig.js';
export { ClientNodePodIntrospector, type PodIntrospectorOptions } from './pod-introspector.js';
export { DEFAULT_RATE_LIMIT, type RateLimitOptions, TokenBucketRateLimiter } from './rate-limiter.js';

/** Options of {@link createClientNodeAdapters}. */
export interface ClientNodeOptions {
  /** A kubeconfig file; else `KUBECONFIG`, `~/.kube/config`, then the in-cluster service account. */
  kubeconfigPath?: string;
  /** A kubeconfig context other than the current one. */
  context?: string;
  /** Sustained client-side requests per second. @default 20 */
  qps?: number;
  /** Requests allowed at once before spacing starts. @default 30 */
  burst?: number;
  /** Retry limits of transient API failures. @default { baseDelayMs: 200, maxDelayMs: 10_000, maxAttempts: 6, maxElapsedMs: 60_000 } */
  retry?: Partial<RetryOptions>;
  /**
   * Time limit of one non-streaming request, in ms; watches and log follows must get their response
   * headers within it, and then have no time limit. @default 30_000
   */
  requestTimeoutMs?: number;
  /**
   * Keep-alive connections to the API server shared by all non-streaming requests (create, get, list,
   * delete, log reads); more requests at once wait for a free connection, within their time limit.
   * Watches and log follows hold one connection each, outside this bound. @default 10
   */
  maxConnections?: number;
  /** Sleeps of retries and of the rate limiter, token file ages and exec credential expiry. @default systemClock */
  clock?: Clock;
  /**
   * The environment: kubeconfig discovery (`KUBECONFIG`, `HOME`, `KUBERNETES_SERVICE_*`), proxies
   * (`HTTPS_PROXY`, `HTTP_PROXY`, `NO_PROXY`, also lowercase) and the server pod's variables.
   * @default process.env
   */
  env?: Record<string, string | undefined>;
  /** Jitter source, values in [0, 1). @default Math.random */
  random?: () => number;
  /** Receives debug-level messages (why no server pod was found, ...). */
  onDebug?: (message: string) => void;
  /** Told about every request (verb, resource, HTTP status) and rate-limiter wait: for metrics. */
  observer?: ApiObserver;
}

/** What {@link createClientNodeAdapters} returns (the public, lazy form is in `./lazy.ts`). */
export interface LoadedClientNodeAdapters {
  /** The JobClient of the configured cluster. */
  jobClient: JobClient;
  /** Finds the pod this process runs in. */
  podIntrospector: PodIntrospector;
  /** Read-only questions for `preflight` (objects, quotas, nodes, access reviews, dry runs). */
  clusterInspector: ClusterInspector;
  /**
   * The kubeconfig context's namespace, else the in-cluster namespace, else `default`.
   * @throws K8sExecutorError `NO_CLUSTER` when no cluster is configured.
   */
  defaultNamespace(): string;
  /** Request and retry counts so far, by `"<verb> <resource>"`. */
  apiCalls(): ApiCallStats;
}

/**
 * Wires the client-node adapters of a real cluster, with client-node loaded (importing this module
 * loads it). The package exports the lazy form of `./lazy.ts`, which imports this module on first use.
 * Nothing is read and no request is sent until the first call; the kubeconfig is loaded once and
 * shared, as are the rate limit, the keep-alive connection pool, the refreshed credentials and the
 * call counts.
 *
 * @throws K8sExecutorError `NO_CLUSTER` (from the first call, not from here) when no kubeconfig or
 *   in-cluster service account exists; the message says what was looked for.
 * @example
 * const { jobClient } = createClientNodeAdapters({ context: 'staging', qps: 10 });
 * const jobs = await jobClient.listJobs('ml', 'app.kubernetes.io/managed-by=k8s-executor');
 */
export function createClientNodeAdapters(options: ClientNodeOptions = {}): LoadedClientNodeAdapters {
  const env = options.env ?? process.env;
  let loaded: LoadedKubeconfig | undefined;
  const kubeconfig = () => {
    loaded ??= loadKubeconfig({
      env,
      kubeconfigPath: options.kubeconfigPath,
      context: options.context,
      clock: options.clock,
    });
    return loaded;
  };
  const api = new KubeApi({
    kubeconfig,
    rateLimit: { qps: options.qps, burst: options.burst },
    retry: options.retry,
    clock: options.clock,
    random: options.random,
    requestTimeoutMs: options.requestTimeoutMs,
    maxConnections: options.maxConnections,
    ...(options.observer ? { observer: options.observer } : {}),
  });
  const jobClient = new ClientNodeJobClient(api);
  return {
    jobClient,
    clusterInspector: new ClientNodeClusterInspector(api, jobClient),
    podIntrospector: new ClientNodePodIntrospector(api, { env, onDebug: options.onDebug }),
    defaultNamespace: () => kubeconfig().defaultNamespace,
    apiCalls: () => api.stats(),
  };
}
