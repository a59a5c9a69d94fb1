/**
 * Regressions (repros `connection-per-request`, `socket-churn`, `log-follow-quiet-5min`): client-node
 * 2.0.1 built a new undici Agent per request (a new TCP + TLS connection each time, one idle socket
 * left per request), and a log follow inherited undici's 300 s body timeout, which silently ended the
 * follow of a container quiet for 5 minutes. Now one keep-alive pool serves the cluster and streams
 * have no body timeout (proved here with a short request timeout and a quiet period beyond it).
 */
import { KubeConfig } from '@kubernetes/client-node';
import { fetch } from 'undici';
import { describe, expect, it } from 'vitest';
import {
  ConnectionPool,
  dispatchTimeouts,
  sameOptions,
} from '../../../src/adapters/client-node/connection-pool.js';
import { createClientNodeAdapters } from '../../../src/adapters/client-node/index.js';
import { startFakeApiServer } from '../../support/fake-apiserver/index.js';
import { adaptersFor } from './helpers.js';
import { closeServersAfterEach, json, startServer } from './http.js';

closeServersAfterEach();

const notFound = (res: Parameters<Parameters<typeof startServer>[0]>[1]) =>
  json(res, 404, { kind: 'Status', code: 404, reason: 'NotFound', message: 'not found' });

/** A quiet period well past the 200 ms request timeout of these tests, and past undici's 1 s timer resolution. */
const QUIET_MS = 2_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('one keep-alive connection pool per cluster', () => {
  it('reuses keep-alive connections for sequential requests (fake API server)', async () => {
    const server = await startFakeApiServer();
    try {
      const { jobClient } = createClientNodeAdapters({
        kubeconfigPath: server.kubeconfigPath,
        qps: 1000,
        burst: 1000,
      });
      // Count the TCP connections every http.Server in this process accepts.
      const http = await import('node:http');
      let connections = 0;
      const original = http.Server.prototype.emit;
      http.Server.prototype.emit = function (this: unknown, event: string, ...args: unknown[]) {
        if (event === 'connection') connections++;
        return Reflect.apply(original, this, [event, ...args]) as boolean;
      } as typeof original;
      try {
        for (let i = 0; i < 20; i++) await jobClient.getJob('default', `nope-${i}`);
      } finally {
        http.Server.prototype.emit = original;
      }
      expect(connections).toBeLessThanOrEqual(2);
    } finally {
      await server.close();
    }
  });

  it('keeps a bounded number of sockets open during a burst of 500 sequential GETs', async () => {
    const server = await startServer((_req, res) => notFound(res));
    const { jobClient } = adaptersFor(server.url);
    for (let i = 0; i < 500; i++) await jobClient.getJob('default', `j${i}`);
    expect(server.peak).toBeLessThan(10);
    expect(server.accepted).toBeLessThanOrEqual(2);
  });

  it('keeps the connection of a delete (its body would make undici close it after the reply)', async () => {
    // Over HTTP/1.1 undici closes a connection after a request with a body whose method expects none
    // (DELETE's DeleteOptions), unless told not to: every Job's cleanup cost a new connection, and the
    // Agent rebuilt its whole pool of the origin (16 KiB of queue) whenever the last one closed.
    const server = await startServer((req, res) => {
      req.resume();
      req.on('end', () => json(res, 200, { kind: 'Status', status: 'Success', code: 200 }));
    });
    const { jobClient } = adaptersFor(server.url);
    for (let i = 0; i < 50; i++) await jobClient.deleteJob('default', `j${i}`, { uid: `u${i}` });
    expect(server.accepted).toBeLessThanOrEqual(2);
  });

  it('bounds concurrent requests to maxConnections, and streams never take their connections', async () => {
    const streams: { end: () => void }[] = [];
    const server = await startServer((req, res) => {
      if (req.url?.includes('/log')) {
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        res.write('started\n');
        streams.push({ end: () => res.end() });
        return;
      }
      setTimeout(() => notFound(res), 20);
    });
    const { jobClient } = adaptersFor(server.url, { maxConnections: 2 });
    const lines: string[] = [];
    const follows = [1, 2, 3].map((i) => jobClient.followPodLog('ml', `p${i}`, (l) => lines.push(l)));
    while (lines.length < 3) await sleep(5);
    const gets = await Promise.all(Array.from({ length: 12 }, (_, i) => jobClient.getJob('ml', `j${i}`)));
    expect(gets).toEqual(Array(12).fill(undefined));
    // Three stream connections plus at most two for the twelve concurrent requests.
    expect(server.peak).toBeLessThanOrEqual(5);
    for (const stream of streams) stream.end();
    await Promise.all(follows);
  });

  it('rejects a maxConnections below 1 at once', () => {
    expect(() => createClientNodeAdapters({ maxConnections: 0 })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    );
  });
});

describe('time limits: requests keep theirs, streams have no body timeout', () => {
  it('streams have no body timeout; requests keep the request timeout (the dispatcher options)', () => {
    expect(dispatchTimeouts(30_000)).toEqual({
      requests: { headersTimeout: 30_000, bodyTimeout: 30_000 },
      streams: { headersTimeout: 30_000, bodyTimeout: 0 },
    });
  });

  it('a log follow survives a quiet period longer than the request timeout', async () => {
    const server = await startServer((req, res) => {
      if (!req.url?.includes('/log')) return notFound(res);
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.write('line 1\n');
      // Long enough for undici's body timer (1 s resolution) to fire had the follow one of 200 ms.
      const later = setTimeout(() => {
        res.write('line 2 after a quiet period\n');
        res.end('failing with 3\n');
      }, QUIET_MS);
      res.on('close', () => clearTimeout(later));
    });
    const { jobClient } = adaptersFor(server.url, { requestTimeoutMs: 200 });
    const lines: string[] = [];
    await jobClient.followPodLog('default', 'p', (l) => lines.push(l), { container: 'main' });
    expect(lines).toEqual(['line 1', 'line 2 after a quiet period', 'failing with 3']);
  });

  it('the same quiet body cuts a non-streaming request at the request timeout', async () => {
    const server = await startServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write('{"metadata":');
      const later = setTimeout(() => res.end('{"name":"x"}}'), 1_000);
      res.on('close', () => clearTimeout(later));
    });
    const { jobClient } = adaptersFor(server.url, { requestTimeoutMs: 200, retry: { maxAttempts: 1 } });
    await expect(jobClient.getJob('ml', 'x')).rejects.toMatchObject({ code: 'API_UNAVAILABLE' });
  });

  it('a stream whose headers never come fails at the request timeout', async () => {
    const server = await startServer(() => {
      // Never answers.
    });
    const { jobClient } = adaptersFor(server.url, { requestTimeoutMs: 200, retry: { maxAttempts: 1 } });
    const error = await jobClient.followPodLog('ml', 'p', () => {}).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'API_UNAVAILABLE' });
  });

  it("the pool's stream dispatcher keeps a quiet body that its request dispatcher cuts (undici itself)", async () => {
    const server = await startServer((_req, res) => {
      res.writeHead(200);
      res.write('a');
      const later = setTimeout(() => res.end('b'), QUIET_MS);
      res.on('close', () => clearTimeout(later));
    });
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: server.url, skipTLSVerify: true }],
      users: [{ name: 'u' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    const pool = new ConnectionPool({ maxConnections: 2, requestTimeoutMs: 200 });
    pool.install(kc);
    const dispatcherOf = async () => {
      const { RequestContext } = await import('@kubernetes/client-node');
      const context = new RequestContext(server.url, 'GET');
      await kc.applySecurityAuthentication(context);
      return context.getDispatcher();
    };
    const requests = await dispatcherOf();
    expect(await dispatcherOf()).toBe(requests);
    const streams = pool.forStream(requests);
    expect(streams).not.toBe(requests);
    const read = async (dispatcher: typeof requests) => {
      const response = await fetch(server.url, { dispatcher });
      return response.text().catch((e: Error & { cause?: { code?: string } }) => e.cause?.code ?? e.message);
    };
    await expect(Promise.all([read(streams), read(requests)])).resolves.toEqual([
      'ab',
      'UND_ERR_BODY_TIMEOUT',
    ]);
    await pool.close();
  });
});

describe('TLS material that changes', () => {
  it('builds new dispatchers when the TLS options change and closes the old ones', async () => {
    const kc = new KubeConfig();
    const load = (caData: string) =>
      kc.loadFromOptions({
        clusters: [{ name: 'c', server: 'https://k8s.test', caData, skipTLSVerify: false }],
        users: [{ name: 'u', token: 't' }],
        contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
        currentContext: 'x',
      });
    const pool = new ConnectionPool({ maxConnections: 2, requestTimeoutMs: 1000 });
    pool.install(kc);
    const { RequestContext } = await import('@kubernetes/client-node');
    const dispatcherOf = async () => {
      const context = new RequestContext('https://k8s.test/api', 'GET');
      await kc.applySecurityAuthentication(context);
      return context.getDispatcher();
    };
    load(Buffer.from('first CA').toString('base64'));
    const first = await dispatcherOf();
    load(Buffer.from('second CA').toString('base64'));
    const second = await dispatcherOf();
    expect(second).not.toBe(first);
    expect((first as unknown as { closed: boolean }).closed).toBe(true);
    expect(await dispatcherOf()).toBe(second);
    await pool.close();
  });

  it('compares the options by value: certificate bytes, nested settings, unset keys ignored', () => {
    const agent = (ca: Buffer, extra: Record<string, unknown> = {}) => ({
      type: 'agent',
      connect: { ca, keepAlive: true, keepAliveInitialDelay: 30_000, ...extra },
    });
    const ca = Buffer.from('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
    const sameBytes = Buffer.from(ca);
    const oneByteOff = Buffer.from(ca);
    oneByteOff[30] = 0x42;
    expect(sameOptions(agent(ca), agent(sameBytes))).toBe(true);
    expect(sameOptions(agent(ca), agent(oneByteOff))).toBe(false);
    expect(sameOptions(agent(ca), agent(ca, { servername: 'api.internal' }))).toBe(false);
    expect(sameOptions(agent(ca), agent(ca, { servername: undefined }))).toBe(true);
    expect(sameOptions(agent(ca), agent(ca, { rejectUnauthorized: false }))).toBe(false);
    expect(sameOptions(agent(ca), { type: 'proxy', uri: 'http://proxy:3128', requestTls: { ca } })).toBe(
      false,
    );
    expect(sameOptions({ type: 'none' }, { type: 'none' })).toBe(true);
    expect(sameOptions(agent(ca), agent(ca.toString('base64') as unknown as Buffer))).toBe(false);
    expect(sameOptions({ ca: [ca, ca] }, { ca: [ca, sameBytes] })).toBe(true);
    expect(sameOptions({ ca: [ca, ca] }, { ca: [ca] })).toBe(false);
  });

  it('keeps the client key it compares out of JSON.stringify of the pool', async () => {
    const kc = new KubeConfig();
    const key = Buffer.from('-----BEGIN PRIVATE KEY-----\nSECRETKEYBYTES\n-----END PRIVATE KEY-----\n');
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: 'https://k8s.test', skipTLSVerify: true }],
      users: [
        { name: 'u', certData: Buffer.from('CERT').toString('base64'), keyData: key.toString('base64') },
      ],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    const pool = new ConnectionPool({ maxConnections: 2, requestTimeoutMs: 1000 });
    pool.install(kc);
    const { RequestContext } = await import('@kubernetes/client-node');
    const context = new RequestContext('https://k8s.test/api', 'GET');
    await kc.applySecurityAuthentication(context);
    expect(context.getDispatcher()).toBeDefined();
    expect(JSON.stringify(pool)).not.toContain(JSON.stringify([...key]).slice(1, -1));
    await pool.close();
  });
});
