import type { KubeConfig } from '@kubernetes/client-node';
import { type Dispatcher, request as undiciRequest } from 'undici';
import { HttpStatusError, RequestFailedError } from './classify.js';
import type { ClientNodeKubeconfig } from './client-node-config.js';
import { RequestContext } from './client-node-values.js';
import type { ConnectionPool } from './connection-pool.js';
import type { KubeRequest, StreamReply } from './request.js';
import { timeLimit } from './time-limit.js';

const USER_AGENT = 'k8s-executor';

/**
 * Sends raw requests with client-node's authentication, TLS and proxy settings of the kubeconfig over
 * the cluster's shared {@link ConnectionPool}, and hands back plain JSON.
 *
 * The request itself goes out through undici's `request` on the dispatcher client-node chose, not
 * through client-node's `IsomorphicFetchHttpLibrary` (undici's `fetch` on that same dispatcher): the
 * same connection, headers and body, without the WHATWG layer (Request, Headers, web streams) that
 * costs about a quarter of a millisecond per request and per streamed chunk; a stream's body comes as
 * a Node `Readable`, its chunks delivered as the socket reads them.
 *
 * Why not the generated `BatchV1Api`/`CoreV1Api`, `Watch` and `Log`: their `ApiException` drops the
 * Status body for 401/403 (so the RBAC message would be lost), `ObjectSerializer` turns timestamps into
 * `Date` objects, `Watch` aborts any stream silent for 30 s and cannot be aborted before it connects,
 * and `Log` swallows a stream that breaks mid-way. Plain JSON is exactly the API shape of `src/types/kube.ts`.
 */
export class KubeTransport {
  private readonly pooled = new WeakSet<KubeConfig>();

  /**
   * @param kubeconfig supplies the (lazily loaded) kubeconfig on first use.
   * @param pool the connections of the cluster.
   * @param requestTimeoutMs the time limit of a non-streaming request.
   */
  constructor(
    private readonly kubeconfig: () => ClientNodeKubeconfig,
    private readonly pool: ConnectionPool,
    private readonly requestTimeoutMs: number,
  ) {}

  /**
   * Loads the kubeconfig now, so that a missing cluster fails before any request is counted or retried.
   * @throws K8sExecutorError `NO_CLUSTER`
   */
  ready(): void {
    this.kubeconfig();
  }

  /** Sends a request and parses its JSON reply. @throws HttpStatusError on a non-2xx reply. */
  async json<T>(request: KubeRequest): Promise<T> {
    return JSON.parse(await this.text(request)) as T;
  }

  /** Sends a request and returns its body as text. @throws HttpStatusError on a non-2xx reply. */
  async text(request: KubeRequest): Promise<string> {
    const limit = timeLimit(this.requestTimeoutMs, request.signal);
    const { signal } = limit;
    try {
      const { response, generation } = await this.send({ ...request, signal }, false);
      const text = await response.body.text().catch((error: unknown) => {
        throw failedOnItsWay(error, signal);
      });
      if (response.statusCode < 200 || response.statusCode >= 300) {
        throw new HttpStatusError(response.statusCode, text, flatHeaders(response.headers), generation);
      }
      return text;
    } finally {
      limit.dispose();
    }
  }

  /**
   * Sends a long-running request (watch, log follow) and returns its body stream. The headers must
   * arrive within the request time limit; the body then has no time limit (see {@link ConnectionPool}).
   * @throws HttpStatusError on a non-2xx reply.
   */
  async stream(request: KubeRequest): Promise<StreamReply> {
    const { response, generation } = await this.send(request, true);
    if (response.statusCode !== 200) {
      // An error's body is read within the request time limit: the stream's connection has no body timeout.
      const limit = timeLimit(this.requestTimeoutMs);
      const stop = () => response.body.destroy(limit.signal.reason as Error);
      limit.signal.addEventListener('abort', stop, { once: true });
      const text = await response.body
        .text()
        .catch((error: unknown) => {
          throw failedOnItsWay(error, request.signal, limit.signal);
        })
        .finally(() => limit.dispose());
      throw new HttpStatusError(response.statusCode, text, flatHeaders(response.headers), generation);
    }
    return { body: response.body };
  }

  private async send(
    request: KubeRequest,
    streaming: boolean,
  ): Promise<{ response: Dispatcher.ResponseData; generation: number }> {
    const { kubeConfig, authenticator } = this.kubeconfig();
    if (!this.pooled.has(kubeConfig)) {
      this.pool.install(kubeConfig);
      this.pooled.add(kubeConfig);
    }
    const cluster = kubeConfig.getCurrentCluster();
    if (!cluster) {
      throw new Error(`the kubeconfig context "${kubeConfig.getCurrentContext()}" names no cluster`);
    }
    const url = new URL(cluster.server.replace(/\/+$/, '') + request.path);
    for (const [key, value] of Object.entries(request.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    const context = new RequestContext(url.toString(), request.method);
    context.setHeaderParam('Accept', 'application/json');
    context.setHeaderParam('Accept-Encoding', 'gzip, deflate');
    context.setHeaderParam('User-Agent', USER_AGENT);
    if (request.body !== undefined) {
      context.setHeaderParam('Content-Type', 'application/json');
      context.setBody(JSON.stringify(request.body));
    }
    if (request.signal) context.setSignal(request.signal);
    await authenticator.authenticate(kubeConfig, context, request.signal);
    // The credential this request carries (at worst a newer one, which a 401 then refreshes once more).
    const generation = authenticator.generation;
    if (streaming) {
      const dispatcher = this.pool.forStream(context.getDispatcher());
      if (dispatcher) context.setDispatcher(dispatcher);
    }
    const response = await undiciRequest(context.getUrl(), {
      method: request.method,
      // Over HTTP/1.1 undici closes the connection after a request whose method expects no body but has
      // one (a delete's DeleteOptions) unless told not to; the API server keeps it alive for client-go's.
      // Only there: `reset: false` would also undo undici's closing after a HEAD (HTTP/2 ignores it).
      ...(request.method === 'DELETE' && request.body !== undefined ? { reset: false } : {}),
      headers: trimmed(context.getHeaders()),
      body: context.getBody() as string | undefined,
      signal: context.getSignal(),
      dispatcher: context.getDispatcher(),
    }).catch((error: unknown) => {
      throw failedOnItsWay(error, context.getSignal());
    });
    request.onResponse?.(response.statusCode);
    return { response, generation };
  }
}

/**
 * What undici threw for a request on its way, for classification: the abort's own reason when one of
 * `signals` aborted (a cancel, the time limit); an argument undici refused as it is; anything else as a
 * {@link RequestFailedError} (a network failure: transient, as `fetch`'s `fetch failed` was).
 */
function failedOnItsWay(error: unknown, ...signals: (AbortSignal | undefined)[]): unknown {
  const aborted = signals.find((signal) => signal?.aborted);
  if (aborted) return aborted.reason;
  if ((error as { code?: unknown } | undefined)?.code === 'UND_ERR_INVALID_ARG') return error;
  return new RequestFailedError(error);
}

/** Header values without surrounding whitespace (a token read from a YAML block scalar ends in `\n`), as `fetch` sends them. */
function trimmed(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) out[name] = value.trim();
  return out;
}

/** A reply's headers as one string each (a repeated header joined with `, `, as `fetch` gives them). */
function flatHeaders(
  headers: Readonly<Record<string, string | string[] | undefined>>,
): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}
