import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SimCluster, WatchListSupport } from '../../../src/adapters/local/sim/sim-cluster.js';
import type { Clock } from '../../../src/ports/clock.js';
import type { Counters } from './counters.js';
import { errorReply, send, sendStatus, statusBody, statusOf } from './replies.js';
import type { Route } from './routes.js';
import { logOptions } from './serve.js';

/** The responses of the open streams, for drops and cuts. */
export interface OpenStreams {
  watches: Set<ServerResponse>;
  logs: Set<ServerResponse>;
  /** Log follows being cut cleanly (they end at once: their container goes on). */
  cutLogs: WeakSet<ServerResponse>;
}

/** How the kubelet behind the server notices that a followed container has exited. */
export interface KubeletLogChecks {
  clock: Clock;
  /** Its `logForceCheckPeriod`: how often a follow waiting for lines checks the container (0: never waits). */
  checkMs: number;
}

/**
 * A watch: `200` then one JSON event per line (BOOKMARKs every minute when `allowWatchBookmarks`); a
 * too-old resourceVersion gets an in-stream ERROR 410, as the API server sends it. A streaming list
 * (`sendInitialEvents=true`) is served, refused or ignored as the cluster's `watchList` says; like the
 * API server, it is refused before the stream starts (422) when `resourceVersionMatch` is not
 * `NotOlderThan`, or when the cluster refuses streaming lists.
 */
export async function serveWatch(
  cluster: SimCluster,
  watchList: WatchListSupport,
  route: Route,
  req: IncomingMessage,
  res: ServerResponse,
  counters: Counters,
  open: OpenStreams,
): Promise<void> {
  const { query, namespace } = route;
  const streamingList = query.get('sendInitialEvents') === 'true';
  if (streamingList) {
    const refusal = watchListRefusal(query, watchList);
    if (refusal) {
      sendStatus(res, 422, 'Invalid', refusal);
      return;
    }
  }
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
  const timeout = query.get('timeoutSeconds');
  const write = (event: unknown) => {
    if (!res.destroyed) res.write(`${JSON.stringify(event)}\n`);
  };
  const watchOptions = {
    labelSelector: query.get('labelSelector') ?? '',
    resourceVersion: query.get('resourceVersion') ?? '',
    allowBookmarks: query.get('allowWatchBookmarks') === 'true',
    ...(streamingList ? { sendInitialEvents: true } : {}),
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
 * the container ends (and the kubelet notices, see {@link kubeletNoticesExit}), the stream is cut, or
 * the client goes.
 */
export async function serveLogFollow(
  cluster: SimCluster,
  route: Route,
  req: IncomingMessage,
  res: ServerResponse,
  counters: Counters,
  open: OpenStreams,
  kubelet: KubeletLogChecks,
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
  let wokeAt = kubelet.clock.now();
  try {
    await cluster.followPodLog(
      namespace,
      name!,
      (line) => {
        wokeAt = kubelet.clock.now();
        res.write(`${line}\n`);
      },
      { ...logOptions(query), signal: stop.signal },
    );
    if (!open.cutLogs.has(res)) await kubeletNoticesExit(kubelet, wokeAt, stop.signal);
  } catch {
    // Aborted by the client, or the pod went away: the stream just ends.
  }
  if (!res.destroyed) res.end();
}

/**
 * Waits until the kubelet's next look at a container whose log has ended. A kubelet following a log
 * checks whether the container still runs after each write it reads and then every `checkMs`
 * (`logForceCheckPeriod`, 1 s), so it ends the follow at the first check after the exit: up to
 * `checkMs` after the last line, not with the container (the pod status says so at once here). A check
 * at the very instant of the exit still sees it running; a follow opened after the exit (or whose
 * last line came with it) ends at once.
 */
async function kubeletNoticesExit(
  { clock, checkMs }: KubeletLogChecks,
  wokeAt: number,
  signal: AbortSignal,
): Promise<void> {
  const quietMs = clock.now() - wokeAt;
  if (checkMs <= 0 || quietMs <= 0) return;
  await clock.sleep(checkMs - (quietMs % checkMs), signal);
}

/** Why the API server refuses a streaming list before it starts (422), or undefined when it does not. */
function watchListRefusal(query: URLSearchParams, watchList: WatchListSupport): string | undefined {
  if (watchList === 'ignore') return undefined;
  const invalid = (field: string, why: string) =>
    `ListOptions.meta.k8s.io "" is invalid: ${field}: Forbidden: ${why}`;
  if (watchList === 'refuse')
    return invalid(
      'sendInitialEvents',
      'sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled',
    );
  if (query.get('resourceVersionMatch') !== 'NotOlderThan')
    return invalid(
      'resourceVersionMatch',
      'sendInitialEvents requires setting resourceVersionMatch to NotOlderThan',
    );
  if (query.get('allowWatchBookmarks') !== 'true')
    return invalid('allowWatchBookmarks', 'sendInitialEvents requires setting allowWatchBookmarks to true');
  return undefined;
}
