import { readFileSync } from 'node:fs';
import {
  createServer as createHttpServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { type AddressInfo, connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterEach } from 'vitest';

/** The test-only TLS material of `fixtures/tls` (see its README). */
export const TLS_DIR = join(import.meta.dirname, 'fixtures', 'tls');

/** A file of {@link TLS_DIR}. */
export function tlsFile(name: 'ca.crt' | 'server.crt' | 'server.key' | 'client.crt' | 'client.key'): string {
  return join(TLS_DIR, name);
}

/** A real HTTP(S) server on 127.0.0.1 with connection counters. */
export interface TestServer {
  /** `http://127.0.0.1:<port>` or `https://...`. */
  readonly url: string;
  /** The node server. */
  readonly server: Server;
  /** TCP connections accepted so far. */
  readonly accepted: number;
  /** TCP connections open now. */
  readonly open: number;
  /** The most TCP connections open at once. */
  readonly peak: number;
}

const running: Server[] = [];

/** Closes every server started by {@link startServer} after each test. */
export function closeServersAfterEach(): void {
  afterEach(async () => {
    for (const server of running.splice(0)) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
}

/**
 * Starts a server on 127.0.0.1 (closed by {@link closeServersAfterEach}). With `tls`, it serves the
 * fixture certificate and, with `requestCert`, asks for a client certificate signed by the fixture CA.
 */
export async function startServer(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  options: { tls?: boolean; requestCert?: boolean } = {},
): Promise<TestServer> {
  const server: Server = options.tls
    ? (createHttpsServer(
        {
          cert: readFileSync(tlsFile('server.crt')),
          key: readFileSync(tlsFile('server.key')),
          ca: readFileSync(tlsFile('ca.crt')),
          requestCert: options.requestCert ?? false,
          rejectUnauthorized: options.requestCert ?? false,
        },
        handler,
      ) as unknown as Server)
    : createHttpServer(handler);
  // Long quiet streams must not be cut by the server's own limits.
  server.requestTimeout = 0;
  const sockets = new Set<Socket>();
  let accepted = 0;
  let peak = 0;
  server.on('connection', (socket: Socket) => {
    accepted++;
    sockets.add(socket);
    peak = Math.max(peak, sockets.size);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  running.push(server);
  const { port } = server.address() as AddressInfo;
  return {
    url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    server,
    get accepted() {
      return accepted;
    },
    get open() {
      return sockets.size;
    },
    get peak() {
      return peak;
    },
  };
}

/** Answers with JSON. */
export function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** A 401 Status, as the API server sends it. */
export function unauthorized(res: ServerResponse): void {
  json(res, 401, {
    kind: 'Status',
    apiVersion: 'v1',
    code: 401,
    reason: 'Unauthorized',
    message: 'Unauthorized',
  });
}

/** A forward and CONNECT proxy that sends every host to 127.0.0.1 (so `api.test` "resolves" only through it). */
export async function startProxy(): Promise<{ url: string; seen: string[] }> {
  const seen: string[] = [];
  const proxy = await startServer((req, res) => {
    // Forward mode (plain HTTP targets): the request line carries the absolute URL.
    seen.push(`${req.method} ${req.url}`);
    const target = new URL(req.url ?? '');
    const upstream = httpRequest(
      {
        host: '127.0.0.1',
        port: target.port,
        path: target.pathname + target.search,
        method: req.method,
        headers: req.headers,
      },
      (reply) => {
        res.writeHead(reply.statusCode ?? 502, reply.headers);
        reply.pipe(res);
      },
    );
    req.pipe(upstream);
  });
  proxy.server.on('connect', (req, client: Socket, head: Buffer) => {
    seen.push(`CONNECT ${req.url}`);
    const port = Number((req.url ?? '').split(':').pop());
    const upstream = connect(port, '127.0.0.1', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  return { url: proxy.url, seen };
}
