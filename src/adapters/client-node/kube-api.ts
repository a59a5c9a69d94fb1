import type { ApiOperation } from '../../errors/api-error.js';
import { isolateCallback } from '../../errors/isolate-callback.js';
import { type Clock, systemClock } from '../../ports/clock.js';
import { DEFAULT_RETRY_OPTIONS, type RetryOptions } from './backoff.js';
import { type ApiCallStats, CallPolicy, type ExecuteOptions } from './call-policy.js';
import { HttpStatusError } from './classify.js';
import { clientNodeOf } from './client-node-config.js';
import { ConnectionPool, DEFAULT_MAX_CONNECTIONS } from './connection-pool.js';
import type { LoadedKubeconfig } from './kubeconfig.js';
import { DEFAULT_RATE_LIMIT, type RateLimitOptions, TokenBucketRateLimiter } from './rate-limiter.js';
import type { KubeRequest, StreamReply } from './request.js';
import { KubeTransport } from './transport.js';

/** How to reach the API server and how politely. */
export interface KubeApiOptions {
  /** A kubeconfig returned by `loadKubeconfig`, or a function that loads it on first use. */
  kubeconfig: LoadedKubeconfig | (() => LoadedKubeconfig);
  /** Sleeps of retries and of the rate limiter. @default systemClock */
  clock?: Clock;
  /** Jitter source, values in [0, 1). @default Math.random */
  random?: () => number;
  /** Client-side rate limit. @default { qps: 20, burst: 30 } */
  rateLimit?: Partial<RateLimitOptions>;
  /** Retry limits of transient failures. @default { baseDelayMs: 200, maxDelayMs: 10_000, maxAttempts: 6, maxElapsedMs: 60_000 } */
  retry?: Partial<RetryOptions>;
  /**
   * Time limit of one non-streaming request; for watches and log follows, of their response headers
   * only (their bodies have no time limit). @default 30_000
   */
  requestTimeoutMs?: number;
  /** Keep-alive connections shared by the non-streaming requests (streams have their own). @default 10 */
  maxConnections?: number;
  /** Told about every request and rate-limiter wait, for metrics. */
  observer?: ApiObserver;
}

/** Told about the adapter's traffic (for metrics such as the executor's telemetry). It may not throw. */
export interface ApiObserver {
  /** A request ended: its HTTP status, or no status when no answer came (a reset, a time limit, an abort). */
  onRequest?(request: { verb: string; resource: string; status?: number }): void;
  /** A request waited this long (ms) for the client-side rate limiter. */
  onRateLimitWait?(ms: number): void;
}

/**
 * The API server as the adapter's classes see it: every request rate-limited, classified and retried by
 * one {@link CallPolicy}, and counted; a 401 refreshes the credential and is retried once. Streams
 * (watch, log follow) go through the policy until they connect; reading them afterwards is not
 * rate-limited. All requests share one keep-alive connection pool.
 *
 * @example
 * const api = new KubeApi({ kubeconfig: loadKubeconfig() });
 * const [namespace, name] = ['ml', 'mage-data-prep-block-42'];
 * const job = await api.json<Job>({ verb: 'get', resource: 'jobs', group: 'batch', namespace, name },
 *   { method: 'GET', path: `/apis/batch/v1/namespaces/${namespace}/jobs/${name}` });
 */
export class KubeApi {
  private readonly transport: KubeTransport;
  private readonly policy: CallPolicy;
  private readonly onRequest:
    | ((request: { verb: string; resource: string; status?: number }) => void)
    | undefined;

  constructor(options: KubeApiOptions) {
    const { kubeconfig } = options;
    this.onRequest = isolateCallback('telemetry', options.observer?.onRequest?.bind(options.observer));
    const clock = options.clock ?? systemClock;
    const requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    const clientNode = () => clientNodeOf(typeof kubeconfig === 'function' ? kubeconfig() : kubeconfig);
    this.transport = new KubeTransport(
      clientNode,
      new ConnectionPool({
        maxConnections: options.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
        requestTimeoutMs,
      }),
      requestTimeoutMs,
    );
    this.policy = new CallPolicy({
      retry: { ...DEFAULT_RETRY_OPTIONS, ...withoutUndefined(options.retry) },
      clock,
      random: options.random ?? Math.random,
      limiter: new TokenBucketRateLimiter(
        { ...DEFAULT_RATE_LIMIT, ...withoutUndefined(options.rateLimit) },
        clock,
        isolateCallback('telemetry', options.observer?.onRateLimitWait?.bind(options.observer)),
      ),
      onUnauthorized: (failure) => {
        const { authenticator } = clientNode();
        const generation = failure instanceof HttpStatusError ? failure.authGeneration : undefined;
        authenticator.invalidate(generation ?? authenticator.generation);
      },
    });
  }

  /** Sends a request and parses its JSON reply. @throws ApiError classified; K8sExecutorError `NO_CLUSTER`. */
  async json<T>(
    op: ApiOperation,
    request: KubeRequest,
    options: Omit<ExecuteOptions<T>, 'signal'> = {},
  ): Promise<T> {
    this.transport.ready();
    return this.policy.execute(
      op,
      this.observed(op, request, (r) => this.transport.json<T>(r)),
      {
        ...options,
        signal: request.signal,
      },
    );
  }

  /** Sends a request and returns its body as text. @throws ApiError classified. */
  async text(op: ApiOperation, request: KubeRequest): Promise<string> {
    this.transport.ready();
    return this.policy.execute(
      op,
      this.observed(op, request, (r) => this.transport.text(r)),
      {
        signal: request.signal,
      },
    );
  }

  /** Opens a stream (watch, log follow). @throws ApiError classified, when it cannot connect. */
  async stream(op: ApiOperation, request: KubeRequest): Promise<StreamReply> {
    this.transport.ready();
    return this.policy.execute(
      op,
      this.observed(op, request, (r) => this.transport.stream(r)),
      {
        signal: request.signal,
      },
    );
  }

  /** Request counts so far. */
  stats(): ApiCallStats {
    return this.policy.stats();
  }

  /** One attempt of `send`, told to the observer with the status it got (none without an answer). */
  private observed<T>(
    op: ApiOperation,
    request: KubeRequest,
    send: (request: KubeRequest) => Promise<T>,
  ): () => Promise<T> {
    const onRequest = this.onRequest;
    if (!onRequest) return () => send(request);
    return async () => {
      let status: number | undefined;
      try {
        return await send({ ...request, onResponse: (s) => (status = s) });
      } finally {
        onRequest({ verb: op.verb, resource: op.resource, ...(status !== undefined ? { status } : {}) });
      }
    };
  }
}

/** Drops undefined values, so that spreading the rest over defaults keeps those defaults. */
function withoutUndefined<T extends object>(value: T | undefined): Partial<T> {
  return Object.fromEntries(Object.entries(value ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>;
}
