import type { DispatcherOptions, KubeConfig } from '@kubernetes/client-node';
import { Agent, type Dispatcher, interceptors, ProxyAgent } from 'undici';
import { ConfigError } from '../../errors/config-error.js';
import { replaceCreateDispatcher } from './client-node-internals.js';

/** The default of {@link ConnectionPoolOptions.maxConnections}. */
export const DEFAULT_MAX_CONNECTIONS = 10;

/** How many connections to the API server, and how long a request may wait for its answer. */
export interface ConnectionPoolOptions {
  /** Keep-alive connections shared by the non-streaming requests; more requests at once wait for a free one. */
  maxConnections: number;
  /** Time limit of a response's headers (every request) and of gaps in its body (non-streaming requests). */
  requestTimeoutMs: number;
}

/** The keep-alive connection socket options client-node gives its own agents (client-go uses 30 s too). */
const KEEP_ALIVE = { keepAlive: true, keepAliveInitialDelay: 30_000 } as const;

/** The undici timeouts of one kind of request. */
export interface DispatchTimeouts {
  /** Time limit until the response headers arrive, in ms. */
  headersTimeout: number;
  /** Longest gap between two body chunks, in ms; 0 = none. */
  bodyTimeout: number;
}

/**
 * The timeouts of non-streaming requests and of streams (watch, log follow). A stream has no body
 * timeout: a container may print nothing for hours, and a watch of a quiet namespace sends nothing
 * between bookmarks (undici's default of 300 s would silently end both).
 */
export function dispatchTimeouts(requestTimeoutMs: number): {
  requests: DispatchTimeouts;
  streams: DispatchTimeouts;
} {
  return {
    requests: { headersTimeout: requestTimeoutMs, bodyTimeout: requestTimeoutMs },
    streams: { headersTimeout: requestTimeoutMs, bodyTimeout: 0 },
  };
}

/** The dispatchers of one TLS/proxy configuration. */
interface Dispatchers {
  /** The options they were built from (as client-node gave them: keys and certificates as buffers). */
  options: DispatcherOptions;
  requests: Dispatcher;
  streams: Dispatcher;
}

/**
 * The connections of one cluster. client-node 2.0.1 builds a new undici Agent for every request (a new
 * TCP and TLS connection each time); this pool makes its KubeConfig hand out shared keep-alive
 * dispatchers instead, built from client-node's own `createDispatcherOptions` (CA, client certificate
 * and key, `insecure-skip-tls-verify`, `tls-server-name`, `proxy-url`), so TLS and proxies are applied
 * exactly as client-node applies them:
 *
 * - non-streaming requests share at most `maxConnections` connections;
 * - streams (watches, log follows) hold a connection each for their whole life, so they use a second,
 *   unbounded set (reused between streams) and can never starve the requests of connections.
 *
 * When the TLS material changes (an exec plugin's new client certificate, a rewritten certificate
 * file), new dispatchers are built and the old ones close once their requests finish.
 */
export class ConnectionPool {
  /** Private (`#`), so that `JSON.stringify` of the adapters never reaches the key its options hold. */
  #current: Dispatchers | undefined;
  private readonly streamsOf = new WeakMap<Dispatcher, Dispatcher>();
  private readonly timeouts: ReturnType<typeof dispatchTimeouts>;

  /** @throws ConfigError `CONFIG_INVALID` when maxConnections is not a whole number of at least 1. */
  constructor(private readonly options: ConnectionPoolOptions) {
    if (!Number.isInteger(options.maxConnections) || options.maxConnections < 1) {
      throw new ConfigError([
        {
          code: 'INVALID_VALUE',
          path: 'maxConnections',
          message: `maxConnections must be a whole number >= 1 (got ${options.maxConnections}).`,
        },
      ]);
    }
    this.timeouts = dispatchTimeouts(options.requestTimeoutMs);
  }

  /** Makes `kubeConfig` set this pool's request dispatcher on every request it authenticates. */
  install(kubeConfig: KubeConfig): void {
    replaceCreateDispatcher(kubeConfig, (cluster, agentOptions, original) => {
      const options = kubeConfig.createDispatcherOptions(cluster, agentOptions);
      return this.dispatchersFor(options, () => original(cluster, agentOptions)).requests;
    });
  }

  /** The stream dispatcher that goes with the request dispatcher client-node set on a request. */
  forStream(requests: Dispatcher | undefined): Dispatcher | undefined {
    return (requests && this.streamsOf.get(requests)) ?? requests;
  }

  /** Closes every connection once its request ends. */
  async close(): Promise<void> {
    const current = this.#current;
    this.#current = undefined;
    if (current) await closeAll(current);
  }

  private dispatchersFor(
    options: DispatcherOptions,
    clientNodeDefault: () => Dispatcher | undefined,
  ): Dispatchers {
    if (this.#current && sameOptions(this.#current.options, options)) return this.#current;
    const previous = this.#current;
    const build = (connections: number | undefined) =>
      options.type === 'socks'
        ? // client-node's SOCKS connector is internal to it: use its own agent (no connection bound).
          (clientNodeDefault() ?? new Agent({ connect: KEEP_ALIVE }))
        : newDispatcher(options, connections);
    this.#current = {
      options,
      requests: withRequestHandling(build(this.options.maxConnections), this.timeouts.requests),
      streams: withRequestHandling(build(undefined), this.timeouts.streams),
    };
    this.streamsOf.set(this.#current.requests, this.#current.streams);
    if (previous) void closeAll(previous);
    return this.#current;
  }
}

/** client-node's own dispatcher construction (config.js `createDispatcher`), with a connection bound. */
function newDispatcher(
  options: Exclude<DispatcherOptions, { type: 'socks' }>,
  connections: number | undefined,
) {
  const bound = connections === undefined ? {} : { connections };
  switch (options.type) {
    case 'proxy':
      return new ProxyAgent({
        ...bound,
        uri: options.uri,
        requestTls: options.requestTls,
        connect: options.connect,
      });
    case 'agent':
      return new Agent({ ...bound, connect: options.connect });
    case 'none':
      return new Agent({ ...bound, connect: KEEP_ALIVE });
  }
}

/** The redirects a request follows, as `fetch` (which client-node sends its own requests with) does. */
const MAX_REDIRECTIONS = 20;

/**
 * What every request goes through on top of its connection: its timeouts (also through a proxy or SOCKS,
 * where agent options do not reach), and what `fetch` does for client-node's own requests: a compressed
 * reply (`Accept-Encoding` is sent) is decompressed, errors included, and redirects are followed (at most
 * {@link MAX_REDIRECTIONS}; the credential is dropped when one leaves the API server's origin).
 */
function withRequestHandling(dispatcher: Dispatcher, timeouts: DispatchTimeouts): Dispatcher {
  return dispatcher.compose(
    (dispatch) => (opts, handler) => dispatch({ ...opts, ...timeouts }, handler),
    interceptors.decompress({ skipErrorResponses: false }),
    interceptors.redirect({ maxRedirections: MAX_REDIRECTIONS }),
  );
}

async function closeAll(dispatchers: Dispatchers): Promise<void> {
  await Promise.all([dispatchers.requests.close(), dispatchers.streams.close()]).catch(() => undefined);
}

/**
 * Whether two dispatcher options are the same: equal values, buffers compared byte for byte (client-node
 * reads the certificate files again for every request). Compared, not hashed, since this runs for every
 * request. Only for the plain shapes client-node builds (no ArrayBuffer, Date or function values).
 */
export function sameOptions(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    return a instanceof Uint8Array && b instanceof Uint8Array && Buffer.compare(a, b) === 0;
  }
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const keysOf = (o: object) => Object.keys(o).filter((k) => (o as Record<string, unknown>)[k] !== undefined);
  const keys = keysOf(a);
  if (keys.length !== keysOf(b).length) return false;
  return keys.every((k) => sameOptions((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}
