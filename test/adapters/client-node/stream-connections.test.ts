/**
 * Streams read through undici's `request` leave no connection behind, however they end (ported from the
 * hostile review of that change): watches aborted by their handler, watches ended by an `ERROR` event on a
 * connection the server keeps open, log follows aborted mid-stream and follows refused with a large error
 * body; and sequential errors with large bodies reuse one keep-alive connection.
 */
import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { adaptersFor } from './helpers.js';
import { closeServersAfterEach, json, startServer } from './http.js';

closeServersAfterEach();

const event = (type: string, resourceVersion: string) =>
  `${JSON.stringify({ type, object: { metadata: { name: 'j', resourceVersion } } })}\n`;
const ROUNDS = 200;
/** Lets the sockets that the last round closed finish closing. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 200));

describe('streams leave no connection behind', () => {
  it('watches aborted by their handler after the first event', async () => {
    const server = await startServer((_req, res: ServerResponse) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(event('ADDED', '1'));
    });
    const { jobClient } = adaptersFor(server.url);
    for (let i = 0; i < ROUNDS; i++) {
      const stop = new AbortController();
      await jobClient
        .watchJobs('ml', () => stop.abort(new Error('done')), { signal: stop.signal, resourceVersion: '1' })
        .catch(() => undefined);
    }
    await settle();
    expect(server.open).toBeLessThan(5);
  });

  it('watches ended by an ERROR event while the server keeps the connection open', async () => {
    const server = await startServer((_req, res: ServerResponse) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(
        event('ADDED', '1') +
          `${JSON.stringify({ type: 'ERROR', object: { kind: 'Status', code: 410, message: 'gone' } })}\n`,
      );
    });
    const { jobClient } = adaptersFor(server.url);
    for (let i = 0; i < ROUNDS; i++) {
      await expect(
        jobClient.watchJobs('ml', () => undefined, { resourceVersion: '1' }),
      ).rejects.toMatchObject({
        code: 'API_GONE',
      });
    }
    await settle();
    expect(server.open).toBeLessThan(5);
  });

  it('log follows aborted mid-stream, and follows refused with a large error body', async () => {
    const server = await startServer((req, res: ServerResponse) => {
      if (req.url?.includes('/pods/bad/')) {
        json(res, 500, { kind: 'Status', code: 500, message: 'x'.repeat(100_000) });
        return;
      }
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('line one\nline two\npartial');
    });
    const { jobClient } = adaptersFor(server.url, { retry: { maxAttempts: 1 } });
    for (let i = 0; i < ROUNDS; i++) {
      const stop = new AbortController();
      await jobClient
        .followPodLog('ml', 'p', () => stop.abort(new Error('done')), { signal: stop.signal, container: 'c' })
        .catch(() => undefined);
      await expect(
        jobClient.followPodLog('ml', 'bad', () => undefined, { container: 'c' }),
      ).rejects.toMatchObject({
        code: 'API_UNAVAILABLE',
      });
    }
    await settle();
    expect(server.open).toBeLessThan(5);
  });

  it('sequential errors with large bodies reuse one keep-alive connection', async () => {
    const server = await startServer((_req, res) =>
      json(res, 404, { kind: 'Status', code: 404, message: 'y'.repeat(200_000) }),
    );
    const { jobClient } = adaptersFor(server.url);
    for (let i = 0; i < ROUNDS; i++) await expect(jobClient.getJob('ml', `j${i}`)).resolves.toBeUndefined();
    expect(server.accepted).toBeLessThanOrEqual(2);
  });
});

describe('a log follow cut mid-way', () => {
  /** A chunked reply cut after `body` (no last chunk), with a FIN or a reset. */
  function cut(res: ServerResponse, body: string, how: 'fin' | 'rst'): void {
    const head = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n';
    const chunk = `${Buffer.byteLength(body).toString(16)}\r\n${body}\r\n`;
    const socket = res.socket!;
    if (how === 'fin') socket.end(head + chunk);
    else socket.write(head + chunk, () => setTimeout(() => socket.resetAndDestroy(), 20));
  }

  for (const how of ['fin', 'rst'] as const) {
    it(`(${how}) delivers the complete lines, drops the cut-off one, and fails as a broken stream`, async () => {
      const server = await startServer((_req, res) => cut(res, 'l1\nl2 é\nl3 parti', how));
      const { jobClient } = adaptersFor(server.url);
      for (let i = 0; i < 10; i++) {
        const lines: string[] = [];
        await expect(
          jobClient.followPodLog('ml', 'p', (l) => lines.push(l), {
            container: 'c',
            failOnBrokenStream: true,
          }),
        ).rejects.toMatchObject({ code: 'API_UNAVAILABLE', transient: true });
        expect(lines).toEqual(['l1', 'l2 é']);
      }
    });
  }

  it('a clean end delivers the unterminated last line', async () => {
    const server = await startServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('l1\nlast');
    });
    const { jobClient } = adaptersFor(server.url);
    const lines: string[] = [];
    await jobClient.followPodLog('ml', 'p', (l) => lines.push(l), {
      container: 'c',
      failOnBrokenStream: true,
    });
    expect(lines).toEqual(['l1', 'last']);
  });
});
