// A watch whose connection goes silent (it died without a FIN) is given up a while after the server's own
// `timeoutSeconds` would have closed it, and ends as a normal close (the hub then watches again); a cancel
// of the caller's still rejects. The grace is 30 s: a `timeoutSeconds` of -29.9 makes the deadline 100 ms
// (the local server ignores the parameter).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { adaptersFor } from './helpers.js';

let server: Server | undefined;
afterEach(
  () =>
    new Promise<void>((resolve) => {
      server?.closeAllConnections();
      server ? server.close(() => resolve()) : resolve();
    }),
);

/** A server that answers every watch with its headers, then says nothing more. */
async function silentServer(): Promise<string> {
  server = createServer((_, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.flushHeaders();
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('a watch that goes silent', () => {
  it('ends as a normal close once its deadline passes', async () => {
    const { jobClient } = adaptersFor(await silentServer());
    const started = Date.now();
    await expect(
      jobClient.watchJobs('ml', () => undefined, { timeoutSeconds: -29.9 }),
    ).resolves.toBeUndefined();
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("rejects with the caller's reason when the caller cancels before the deadline", async () => {
    const { jobClient } = adaptersFor(await silentServer());
    const cancel = new AbortController();
    const watching = jobClient.watchJobs('ml', () => undefined, {
      timeoutSeconds: 300,
      signal: cancel.signal,
    });
    setTimeout(() => cancel.abort(new Error('shutdown')), 100);
    await expect(watching).rejects.toThrow('shutdown');
  });
});
