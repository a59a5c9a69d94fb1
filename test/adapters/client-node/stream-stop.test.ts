/**
 * A stream stopped by its own line handler (a watch `ERROR` event, an abort from the handler), on a real
 * socket, with the rest of the reply and the connection's close in the same read. The adapter reads
 * bodies with undici's `request`, which hands data over from inside its HTTP parser; lines are handled
 * in a microtask after it (nock's sockets, in streams.test.ts, show what happens otherwise: undici
 * asserts out of the socket's event). Here: the watch rejects with the event's error and delivers
 * nothing after it, the follow rejects with the abort reason, and nothing is thrown elsewhere.
 */
import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { createClientNodeAdapters } from '../../../src/adapters/client-node/index.js';
import { kubeconfigOf, writeKubeconfig } from './helpers.js';
import { closeServersAfterEach, startServer } from './http.js';

closeServersAfterEach();

/** Writes the whole reply, with its length, in one piece, and closes the connection after it. */
function replyAtOnce(res: ServerResponse, contentType: string, body: string): void {
  res.socket?.end(
    `HTTP/1.1 200 OK\r\nContent-Type: ${contentType}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
      `Connection: close\r\n\r\n${body}`,
  );
}

const line = (type: string, object: unknown) => `${JSON.stringify({ type, object })}\n`;

async function jobClientOf(handler: Parameters<typeof startServer>[0]) {
  const server = await startServer(handler);
  return createClientNodeAdapters({
    kubeconfigPath: writeKubeconfig(kubeconfigOf(server.url, { token: 't' })),
    env: {},
  }).jobClient;
}

describe('a stream stopped by its own line handler, on a real socket', () => {
  it('a watch ERROR event followed by more bytes and the close in the same read rejects with API_GONE', async () => {
    const jobClient = await jobClientOf((_req, res) =>
      replyAtOnce(
        res,
        'application/json',
        line('ADDED', { metadata: { name: 'j1', resourceVersion: '5' } }) +
          line('ERROR', {
            kind: 'Status',
            code: 410,
            reason: 'Expired',
            message: 'too old resource version',
          }) +
          line('MODIFIED', { metadata: { name: 'j1', resourceVersion: '6' } }),
      ),
    );
    const types: string[] = [];
    for (let round = 0; round < 5; round++) {
      const error = await jobClient
        .watchJobs('ml', (event) => types.push(event.type), { resourceVersion: '1' })
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'API_GONE' });
    }
    expect(types).toEqual(['ADDED', 'ADDED', 'ADDED', 'ADDED', 'ADDED']);
    // An assertion thrown out of undici's socket handler would surface here, after the reads settled.
    await new Promise((resolve) => setTimeout(resolve, 50));
  });

  it('a log follow aborted by its first line, with the rest of the log in the same read, rejects with the reason', async () => {
    const jobClient = await jobClientOf((_req, res) => replyAtOnce(res, 'text/plain', 'one\ntwo\nthree\n'));
    const lines: string[] = [];
    for (let round = 0; round < 5; round++) {
      const stop = new AbortController();
      const following = jobClient.followPodLog(
        'ml',
        'p',
        (text) => {
          lines.push(text);
          stop.abort(new Error('enough'));
        },
        { signal: stop.signal, container: 'main' },
      );
      await expect(following).rejects.toThrow('enough');
    }
    // Lines already read with the first one may still be handed over; none comes after the abort settles.
    expect(lines.filter((text) => text === 'one')).toHaveLength(5);
    await new Promise((resolve) => setTimeout(resolve, 50));
  });
});
