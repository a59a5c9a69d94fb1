/**
 * What client-node's `fetch` did for a request and the adapter's undici `request` must do too (found by
 * the hostile review of that change): every network failure is transient and retried (fetch wrapped them
 * all in `fetch failed`; `request` throws undici's own errors, some without a code), compressed replies
 * are asked for and decompressed, redirects are followed without taking the credential to another
 * origin, header values are sent trimmed, and a stream answered with an error reads that error's body
 * within the request time limit.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { createClientNodeAdapters } from '../../../src/adapters/client-node/index.js';
import { kubeconfigOf, writeKubeconfig } from './helpers.js';
import { closeServersAfterEach, json, startServer, tlsFile } from './http.js';

closeServersAfterEach();
const rawServers: Server[] = [];
afterEach(() => {
  for (const server of rawServers.splice(0)) server.close();
});

function adaptersFor(
  url: string,
  options: {
    user?: Record<string, unknown>;
    cluster?: Record<string, unknown>;
    env?: Record<string, string>;
  } = {},
  more: Parameters<typeof createClientNodeAdapters>[0] = {},
) {
  return createClientNodeAdapters({
    kubeconfigPath: writeKubeconfig(kubeconfigOf(url, options.user ?? { token: 't' }, options.cluster)),
    env: options.env ?? {},
    qps: 1000,
    burst: 1000,
    retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 },
    ...more,
  });
}

/** A raw TCP server on 127.0.0.1 (closed after each test); resolves with its port. */
async function rawServer(onSocket: (socket: Socket) => void): Promise<number> {
  const server = createServer(onSocket);
  rawServers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

/** A SOCKS5 proxy without auth: `reply` 0 connects to 127.0.0.1 at the asked port, else that SOCKS error. */
async function socks5(reply = 0): Promise<{ url: string; connects: () => number }> {
  let connects = 0;
  const port = await rawServer((client) => {
    client.once('data', () => {
      client.write(Buffer.from([5, 0]));
      client.once('data', (req: Buffer) => {
        connects++;
        const hostEnd = req[3] === 3 ? 5 + req[4]! : 8;
        const targetPort = req.readUInt16BE(hostEnd);
        if (reply !== 0) {
          client.end(Buffer.from([5, reply, 0, 1, 0, 0, 0, 0, 0, 0]));
          return;
        }
        const upstream = connect(targetPort, '127.0.0.1', () => {
          client.write(Buffer.from([5, 0, 0, 1, 127, 0, 0, 1, 0, 0]));
          upstream.pipe(client);
          client.pipe(upstream);
        });
        upstream.on('error', () => client.destroy());
        client.on('error', () => upstream.destroy());
      });
    });
  });
  return { url: `socks5://127.0.0.1:${port}`, connects: () => connects };
}

describe('a network failure is transient and retried, whatever undici calls it', () => {
  const cases: [string, () => Promise<Parameters<typeof adaptersFor>>][] = [
    ['a name that does not resolve', async () => ['http://nonexistent-apiserver.invalid:6443']],
    [
      'TLS spoken to a plain HTTP port (a load balancer misrouting during a rollout)',
      async () => [(await startServer((_req, res) => res.end('{}'))).url.replace('http:', 'https:')],
    ],
    [
      'a reply that is not HTTP',
      async () => [`http://127.0.0.1:${await rawServer((socket) => socket.end('NOT HTTP AT ALL\r\n\r\n'))}`],
    ],
    [
      'a SOCKS5 proxy that cannot reach the API server',
      async () => ['http://127.0.0.1:6443', { cluster: { 'proxy-url': (await socks5(5)).url } }],
    ],
    [
      'an HTTPS proxy answering CONNECT with 503',
      async () => {
        const port = await rawServer((client) =>
          client.once('data', () =>
            client.end('HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n'),
          ),
        );
        return [
          'https://api.test:6443',
          {
            cluster: { 'certificate-authority': tlsFile('ca.crt') },
            env: { HTTPS_PROXY: `http://127.0.0.1:${port}` },
          },
        ];
      },
    ],
  ];
  for (const [what, setUp] of cases) {
    it(what, async () => {
      const { jobClient, apiCalls } = adaptersFor(...(await setUp()));
      const error = await jobClient.getJob('ml', 'x').catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'API_UNAVAILABLE', transient: true });
      expect(apiCalls().requests).toBe(3);
    });
  }

  it('a certificate the kubeconfig does not trust is not retried', async () => {
    const server = await startServer((_req, res) => res.end('{}'), { tls: true });
    const { jobClient, apiCalls } = adaptersFor(server.url);
    const error = await jobClient.getJob('ml', 'x').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'API_UNAVAILABLE', transient: false });
    expect((error as Error).message).toContain('certificate verification');
    expect(apiCalls().requests).toBe(1);
  });
});

describe('through a SOCKS5 proxy', () => {
  it('requests work, TLS is verified end to end, and the tunnel is reused', async () => {
    const api = await startServer((_req, res) => json(res, 200, { metadata: { name: 'ok' } }), { tls: true });
    const proxy = await socks5();
    const { jobClient } = adaptersFor(api.url.replace('127.0.0.1', 'localhost'), {
      cluster: { 'proxy-url': proxy.url, 'certificate-authority': tlsFile('ca.crt') },
    });
    for (let i = 0; i < 20; i++)
      await expect(jobClient.getJob('ml', 'x')).resolves.toEqual({ metadata: { name: 'ok' } });
    expect(proxy.connects()).toBeLessThanOrEqual(2);
  });
});

describe('replies as fetch read them', () => {
  it('asks for compressed replies and decompresses them (a success and an error)', async () => {
    const seen: (string | undefined)[] = [];
    const list = {
      kind: 'JobList',
      metadata: { resourceVersion: '7' },
      items: [{ metadata: { name: 'j1' } }],
    };
    const forbidden = {
      kind: 'Status',
      code: 403,
      reason: 'Forbidden',
      message: 'jobs is forbidden: no rule',
    };
    const server = await startServer((req, res) => {
      seen.push(req.headers['accept-encoding']);
      const [status, body] = req.url?.includes('/jobs/') ? [403, forbidden] : [200, list];
      res.writeHead(status, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      res.end(gzipSync(JSON.stringify(body)));
    });
    const { jobClient } = adaptersFor(server.url);
    await expect(jobClient.listJobs('ml', 'a=b')).resolves.toMatchObject({
      items: [{ metadata: { name: 'j1' } }],
      resourceVersion: '7',
    });
    const error = await jobClient.getJob('ml', 'x').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'API_FORBIDDEN' });
    expect((error as Error).message).toContain('no rule');
    expect(seen.every((value) => value?.includes('gzip'))).toBe(true);
  });

  it('follows a redirect on the same server, with the credential', async () => {
    const auth: (string | undefined)[] = [];
    const server = await startServer((req, res) => {
      auth.push(req.headers.authorization);
      if (req.url?.startsWith('/old/')) {
        res.writeHead(307, { location: req.url.replace('/old/', '/new/') });
        res.end();
        return;
      }
      json(res, 200, { metadata: { name: 'j' } });
    });
    const { jobClient } = adaptersFor(`${server.url}/old`);
    await expect(jobClient.getJob('ml', 'j')).resolves.toEqual({ metadata: { name: 'j' } });
    expect(auth).toEqual(['Bearer t', 'Bearer t']);
  });

  it('does not take the credential along a redirect to another origin', async () => {
    let elsewhere: string | undefined = 'not asked';
    const other = await startServer((req, res) => {
      elsewhere = req.headers.authorization;
      json(res, 200, { metadata: { name: 'j' } });
    });
    const server = await startServer((req, res) => {
      res.writeHead(307, { location: `${other.url}${req.url}` });
      res.end();
    });
    const { jobClient } = adaptersFor(server.url);
    await expect(jobClient.getJob('ml', 'j')).resolves.toEqual({ metadata: { name: 'j' } });
    expect(elsewhere).toBeUndefined();
  });

  for (const token of ['abc\n', 'abc ', 'abc\r\n']) {
    it(`sends a kubeconfig token ${JSON.stringify(token)} trimmed (a YAML block scalar ends in a newline)`, async () => {
      let auth: string | undefined;
      const server = await startServer((req, res) => {
        auth = req.headers.authorization;
        json(res, 200, { metadata: { name: 'j' } });
      });
      const { jobClient } = adaptersFor(server.url, { user: { token } });
      await expect(jobClient.getJob('ml', 'j')).resolves.toEqual({ metadata: { name: 'j' } });
      expect(auth).toBe('Bearer abc');
    });
  }

  it("reads a stream's error body within the request time limit (a 503 whose body never ends)", async () => {
    const server = await startServer((_req, res) => {
      res.writeHead(503, { 'content-type': 'text/html' });
      res.write('<html>');
    });
    const { jobClient } = adaptersFor(server.url, {}, { requestTimeoutMs: 300, retry: { maxAttempts: 1 } });
    const outcome = await Promise.race([
      jobClient
        .watchJobs('ml', () => undefined, { resourceVersion: '1' })
        .then(
          () => 'ended',
          (e: { code?: string; transient?: boolean }) => `${e.code} ${e.transient}`,
        ),
      new Promise((resolve) => setTimeout(() => resolve('still waiting after 5 s'), 5000)),
    ]);
    expect(outcome).toBe('API_UNAVAILABLE true');
  });
});
