import { IsomorphicFetchHttpLibrary, type KubeConfig, RequestContext } from '@kubernetes/client-node';
import { HttpStatusError } from './classify.js';

/** Query parameters; undefined ones are left out. */
export type Query = Readonly<Record<string, string | number | boolean | undefined>>;

/** One request to the API server. */
export interface KubeRequest {
  /** The HTTP method (the executor never patches or updates). */
  method: 'GET' | 'POST' | 'DELETE';
  /** The path, e.g. `/apis/batch/v1/namespaces/ml/jobs`. Segments must already be encoded. */
  path: string;
  /** Query parameters, e.g. `labelSelector`, `watch`. */
  query?: Query;
  /** A JSON body. */
  body?: unknown;
  /** Aborts the request (and the stream it returns). */
  signal?: AbortSignal;
}

/** A 2xx reply whose body is read as a stream. */
export interface StreamReply {
  /** The response body; cancelled when the request's signal aborts. */
  body: ReadableStream<Uint8Array>;
}

const USER_AGENT = 'k8s-executor';

/**
 * Sends raw requests through client-node's own HTTP stack (its undici `fetch` and the kubeconfig's
 * authentication, TLS and proxy settings) and hands back plain JSON.
 *
 * Why not the generated `BatchV1Api`/`CoreV1Api`, `Watch` and `Log`: their `ApiException` drops the
 * Status body for 401/403 (so the RBAC message would be lost), `ObjectSerializer` turns timestamps into
 * `Date` objects, `Watch` aborts any stream silent for 30 s and cannot be aborted before it connects,
 * and `Log` swallows a stream that breaks mid-way. Plain JSON is exactly the API shape of `src/types/kube.ts`.
 */
export class KubeTransport {
  private readonly http = new IsomorphicFetchHttpLibrary();

  /**
   * @param kubeConfig supplies the (lazily loaded) kubeconfig on first use.
   * @param requestTimeoutMs the time limit of a non-streaming request.
   */
  constructor(
    private readonly kubeConfig: () => KubeConfig,
    private readonly requestTimeoutMs: number,
  ) {}

  /**
   * Loads the kubeconfig now, so that a missing cluster fails before any request is counted or retried.
   * @throws K8sExecutorError `NO_CLUSTER`
   */
  ready(): void {
    this.kubeConfig();
  }

  /** Sends a request and parses its JSON reply. @throws HttpStatusError on a non-2xx reply. */
  async json<T>(request: KubeRequest): Promise<T> {
    return JSON.parse(await this.text(request)) as T;
  }

  /** Sends a request and returns its body as text. @throws HttpStatusError on a non-2xx reply. */
  async text(request: KubeRequest): Promise<string> {
    const timeout = AbortSignal.timeout(this.requestTimeoutMs);
    const signal = request.signal ? AbortSignal.any([request.signal, timeout]) : timeout;
    const response = await this.send({ ...request, signal });
    const text = await response.body.text();
    if (response.httpStatusCode < 200 || response.httpStatusCode >= 300) {
      throw new HttpStatusError(response.httpStatusCode, text, response.headers);
    }
    return text;
  }

  /**
   * Sends a long-running request (watch, log follow) with no time limit and returns its body stream.
   * @throws HttpStatusError on a non-2xx reply.
   */
  async stream(request: KubeRequest): Promise<StreamReply> {
    const response = await this.send(request);
    const body = response.httpStatusCode === 200 ? response.body.stream() : null;
    if (!body) {
      throw new HttpStatusError(response.httpStatusCode, await response.body.text(), response.headers);
    }
    return { body };
  }

  private async send(request: KubeRequest) {
    const kc = this.kubeConfig();
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error(`the kubeconfig context "${kc.getCurrentContext()}" names no cluster`);
    const url = new URL(cluster.server.replace(/\/+$/, '') + request.path);
    for (const [key, value] of Object.entries(request.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    const context = new RequestContext(url.toString(), request.method);
    context.setHeaderParam('Accept', 'application/json');
    context.setHeaderParam('User-Agent', USER_AGENT);
    if (request.body !== undefined) {
      context.setHeaderParam('Content-Type', 'application/json');
      context.setBody(JSON.stringify(request.body));
    }
    if (request.signal) context.setSignal(request.signal);
    await kc.applySecurityAuthentication(context);
    return this.http.send(context).toPromise();
  }
}

/** Encodes one path segment (names are DNS labels, but never trust input in a URL). */
export function segment(value: string): string {
  return encodeURIComponent(value);
}
