/**
 * A log follow against a real HTTP server whose connection breaks mid-stream (nock cannot break one:
 * it ends the body instead): the complete lines arrive, the cut-off one does not, and
 * `failOnBrokenStream` tells a broken stream from one the server ended.
 */
import { describe, expect, it } from 'vitest';
import { createClientNodeAdapters } from '../../../src/adapters/client-node/index.js';
import { ApiError } from '../../../src/errors/api-error.js';
import { kubeconfigOf, writeKubeconfig } from './helpers.js';
import { closeServersAfterEach, startServer } from './http.js';

closeServersAfterEach();

/** A log server: `break` sends two lines and a cut-off one, then resets the connection; `end` ends normally. */
async function logServer() {
  const { url } = await startServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.write('one\ntwo\ncut-o');
    if (req.url?.includes('/pods/break/')) setTimeout(() => res.socket?.destroy(), 20);
    else res.end('ff\n');
  });
  return createClientNodeAdapters({
    kubeconfigPath: writeKubeconfig(kubeconfigOf(url, { token: 't' })),
    env: {},
  }).jobClient;
}

describe('followPodLog when the connection breaks', () => {
  it('resolves after the complete lines, without the cut-off one', async () => {
    const jobClient = await logServer();
    const lines: string[] = [];
    await expect(jobClient.followPodLog('ml', 'break', (l) => lines.push(l))).resolves.toBeUndefined();
    expect(lines).toEqual(['one', 'two']);
  });

  it('with failOnBrokenStream rejects with a transient API_UNAVAILABLE, and resolves on a normal end', async () => {
    const jobClient = await logServer();
    const lines: string[] = [];
    const error = await jobClient
      .followPodLog('ml', 'break', (l) => lines.push(l), { failOnBrokenStream: true })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({
      code: 'API_UNAVAILABLE',
      transient: true,
      operation: { resource: 'pods/log' },
    });
    expect(lines).toEqual(['one', 'two']);
    await expect(
      jobClient.followPodLog('ml', 'end', (l) => lines.push(l), { failOnBrokenStream: true }),
    ).resolves.toBeUndefined();
    expect(lines).toEqual(['one', 'two', 'one', 'two', 'cut-off']);
  });
});
