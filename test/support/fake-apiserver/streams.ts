import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SimCluster } from '../../../src/adapters/local/sim/sim-cluster.js';
import type { Counters } from './counters.js';
import { errorReply, send, statusBody, statusOf } from './replies.js';
import type { Route } from './routes.js';
import { logOptions } from './serve.js';

/** The responses of the open streams, for drops and cuts. */
export interface OpenStreams {
  watches: Set<ServerResponse>;
  logs: Set<ServerResponse>;
}

/**
 * A watch: `200` then one JSON event per line (BOOKMARKs every minute when `allowWatchBookmarks`); a
 * too-old resourceVersion gets an in-stream ERROR 410, as the API server sends it.
 */
export async function serveWatch(
  cluster: SimCluster,
  route: Route,
  req: IncomingMessage,
  res: ServerResponse,
  counters: Counters,
  open: OpenStreams,
): Promise<void> {
  const stop = new AbortController();
  res.on('close', () => {
    stop.abort();
    open.watches.delete(res);
  });
  req.on('close', () => stop.abort());
  res.writeHead(200, { 'Content-Type': 'application/json' });
  res.flushHeaders();
  open.watches.add(res);
  counters.watchOpened(open.watches.size);
  const { query, namespace } = route;
  const timeout = query.get('timeoutSeconds');
  const write = (event: unknown) => {
    if (!res.destroyed) res.write(`${JSON.stringify(event)}\n`);
  };
  const watchOptions = {
    labelSelector: query.get('labelSelector') ?? '',
    resourceVersion: query.get('resourceVersion') ?? '',
    allowBookmarks: query.get('allowWatchBookmarks') === 'true',
    signal: stop.signal,
    ...(timeout !== null ? { timeoutSeconds: Number(timeout) } : {}),
  };
  try {
    if (route.resource === 'jobs') await cluster.watchJobs(namespace, write, watchOptions);
    else await cluster.watchPods(namespace, write, watchOptions);
  } catch (error) {
    if (stop.signal.aborted) return;
    const { status, reason, message } = statusOf(error);
    write({ type: 'ERROR', object: statusBody(status, reason, message) });
  }
  if (!res.destroyed) res.end();
}

/**
 * A log follow: checked like a plain read first (a waiting container gets 400), then streamed until
 * the container ends, the stream is cut, or the client goes.
 */
export async function serveLogFollow(
  cluster: SimCluster,
  route: Route,
  req: IncomingMessage,
  res: ServerResponse,
  counters: Counters,
  open: OpenStreams,
): Promise<void> {
  const { namespace, name, query } = route;
  try {
    await cluster.readPodLog(namespace, name!, { ...logOptions(query), tailLines: 0 });
  } catch (error) {
    send(res, errorReply(error));
    return;
  }
  const stop = new AbortController();
  res.on('close', () => {
    stop.abort();
    open.logs.delete(res);
    counters.logStreamClosed();
  });
  req.on('close', () => stop.abort());
  res.writeHead(200, { 'Content-Type': 'text/plain' });
  res.flushHeaders();
  open.logs.add(res);
  counters.logStreamOpened();
  try {
    await cluster.followPodLog(namespace, name!, (line) => res.write(`${line}\n`), {
      ...logOptions(query),
      signal: stop.signal,
    });
  } catch {
    // Aborted by the client, or the pod went away: the stream just ends.
  }
  if (!res.destroyed) res.end();
}
