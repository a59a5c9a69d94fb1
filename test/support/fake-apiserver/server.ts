import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimCluster } from '../../../src/adapters/local/sim/sim-cluster.js';
import { ApiError } from '../../../src/errors/api-error.js';
import { type Clock, systemClock } from '../../../src/ports/clock.js';
import { type PodScript, ScriptedPodRunner } from '../../../src/testing/pod-script.js';
import type { Job } from '../../../src/types/kube.js';
import { type Fault, FaultPlan, type FaultRule } from './fault-plan.js';
import { FinalConditionRecorder } from './final-condition-recorder.js';
import { callKey, type Route, routeOf } from './routes.js';
import { seededRandom } from './seeded-random.js';

/** Options of {@link startFakeApiServer}. */
export interface FakeApiServerOptions {
  /** Drives the pod scripts, deadlines and watch timeouts. @default systemClock */
  clock?: Clock;
  /** What the pods of each Job do (attempt 1, 2, ...; the last one repeats). @default every pod succeeds at once */
  scripts?: (jobName: string) => readonly PodScript[];
  /** Delay before each request is handled, in ms (real time). @default 0 */
  latencyMs?: number | ((route: Route) => number);
  /** Faults to inject from the start. @default none */
  faults?: readonly FaultRule[];
  /** Seed of the fault draws and of generated pod names. @default 1 */
  seed?: number;
  /** Watch events kept for resuming watches (older versions get 410). @default 1000 */
  watchHistory?: number;
  /** The bearer token the kubeconfig carries and the server demands. @default 'fake-apiserver-token' */
  token?: string;
  /** The kubeconfig context's namespace. @default 'default' */
  namespace?: string;
}

/** What the server saw. Keys of `byCall` and `faults` are `"<verb> <resource>"`, as the adapter's `apiCalls()`. */
export interface FakeApiServerStats {
  /** Every request received (faulted ones included). */
  requests: number;
  /** Requests by `"<verb> <resource>"`. */
  byCall: Record<string, number>;
  /** Injected faults by `"<verb> <resource>"`. */
  faults: Record<string, number>;
  /** Watch connections open now, and the most open at once. */
  openWatches: number;
  maxOpenWatches: number;
  /** Log-follow connections open now, and the most open at once. */
  openLogStreams: number;
  maxOpenLogStreams: number;
  /** Successful (non-dry-run) creates by Job name: more than 1 for a name is a duplicate Job. */
  createdJobs: Record<string, number>;
  /** When each Job's final condition was written, by Job name (ms since the epoch, fractional, real time). */
  finalConditionAt: Record<string, number>;
}

/** A running fake API server. */
export interface FakeApiServer {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** A temporary kubeconfig for {@link url} (`insecure-skip-tls-verify`, bearer token); removed by `close()`. */
  readonly kubeconfigPath: string;
  /** The simulated cluster behind the HTTP API (for assertions: `jobs()`, `pods()`). */
  readonly cluster: SimCluster;
  /** A snapshot of the counters. */
  stats(): FakeApiServerStats;
  /** Zeroes the request and fault counters (open-connection maxima restart from the current count). */
  resetStats(): void;
  /** Replaces the fault plan; `[]` turns faults off. */
  setFaults(rules: readonly FaultRule[]): void;
  /** Changes the per-request latency. */
  setLatency(latencyMs: number | ((route: Route) => number)): void;
  /**
   * Ends every open watch: gracefully (the stream ends, as on a server timeout) or `abrupt`ly (the
   * connection is destroyed mid-stream, as on a network failure).
   */
  dropWatches(options?: { abrupt?: boolean }): void;
  /** Forgets the watch history: resuming from any version handed out so far gets 410 Gone. */
  expireWatchHistory(): void;
  /** Stops the pods, closes every connection and the server, removes the kubeconfig. */
  close(): Promise<void>;
}

/**
 * Starts a fake Kubernetes API server on 127.0.0.1 (a free port) that serves exactly the requests the
 * client-node adapter sends: Jobs create/get/list/watch/delete, pods list/watch, pod logs (plain and
 * follow), warning events. Behind it is the {@link SimCluster} (versioned store, Job controller,
 * resumable watches, 410 past the history) with pods that play {@link PodScript}s on `clock`. On top
 * of it: latency, a fault plan (5xx, 429 + Retry-After, connection resets, before or after the work is
 * done), watch drops, history expiry, and counters of everything.
 *
 * @example
 * const server = await startFakeApiServer({ scripts: () => [{ runMs: 1000 }] });
 * const { jobClient } = createClientNodeAdapters({ kubeconfigPath: server.kubeconfigPath });
 * // ... run blocks ...
 * server.stats().byCall['create jobs'];
 * await server.close();
 */
export async function startFakeApiServer(options: FakeApiServerOptions = {}): Promise<FakeApiServer> {
  const clock = options.clock ?? systemClock;
  const token = options.token ?? 'fake-apiserver-token';
  const scriptsFor = options.scripts ?? (() => [{}]);
  const faults = new FaultPlan(seededRandom(options.seed ?? 1));
  faults.set(options.faults ?? []);
  let latency = options.latencyMs ?? 0;

  const recorder: FinalConditionRecorder = new FinalConditionRecorder(
    new ScriptedPodRunner(clock, (jobName) => [...scriptsFor(jobName)]),
    // Only called when a pod exits, long after `sim` exists.
    (namespace, name): Promise<Job | undefined> => sim.getJob(namespace, name),
  );
  const sim: SimCluster = new SimCluster({
    clock,
    runner: recorder,
    seed: options.seed ?? 1,
    ...(options.watchHistory !== undefined ? { watchHistory: options.watchHistory } : {}),
  });

  const counters = new Counters();
  const openWatches = new Set<ServerResponse>();

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const route = routeOf(req.method ?? 'GET', req.url ?? '/');
    counters.request(route);
    const body = await readBody(req);
    if (req.headers.authorization !== `Bearer ${token}`) {
      sendStatus(res, 401, 'Unauthorized', 'Unauthorized');
      return;
    }
    if (!route) {
      sendStatus(
        res,
        404,
        'NotFound',
        `the server could not find the requested resource (${req.method} ${req.url})`,
      );
      return;
    }
    const delayMs = typeof latency === 'function' ? latency(route) : latency;
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    const injected = faults.draw(route);
    if (injected) counters.fault(route);
    if (injected?.when === 'before') {
      inject(injected.fault, req, res, body);
      return;
    }
    if (route.verb === 'watch') {
      await serveWatch(sim, route, req, res, counters, openWatches);
      return;
    }
    if (route.streaming) {
      await serveLogFollow(sim, route, req, res, counters);
      return;
    }
    const reply = await serve(sim, route, body, counters);
    if (injected) inject(injected.fault, req, res, body);
    else send(res, reply);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendStatus(res, 500, 'InternalError', `fake API server error: ${String(error)}`);
      else res.destroy();
    });
  });
  server.requestTimeout = 0;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const dir = mkdtempSync(join(tmpdir(), 'fake-apiserver-'));
  const kubeconfigPath = join(dir, 'kubeconfig.yaml');
  writeFileSync(kubeconfigPath, kubeconfig(url, token, options.namespace ?? 'default'));

  return {
    url,
    kubeconfigPath,
    cluster: sim,
    stats: () => ({
      ...counters.snapshot(),
      openWatches: openWatches.size,
      finalConditionAt: recorder.times(),
    }),
    resetStats: () => counters.reset(openWatches.size),
    setFaults: (rules) => faults.set(rules),
    setLatency: (value) => {
      latency = value;
    },
    dropWatches: ({ abrupt = false } = {}) => {
      if (abrupt) for (const res of [...openWatches]) res.destroy();
      else sim.dropWatches();
    },
    expireWatchHistory: () => sim.expireWatchHistory(),
    close: async () => {
      await sim.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A non-streaming answer. */
interface Reply {
  status: number;
  body: string;
  contentType: 'application/json' | 'text/plain';
}

/** Serves one non-streaming request from the simulated cluster. */
async function serve(cluster: SimCluster, route: Route, body: string, counters: Counters): Promise<Reply> {
  const { namespace, name, query } = route;
  try {
    switch (`${route.verb} ${route.resource}`) {
      case 'create jobs': {
        const dryRun = query.get('dryRun') === 'All';
        const created = await cluster.createJob(namespace, JSON.parse(body) as Job, { dryRun });
        if (!dryRun) counters.created(created.metadata.name ?? '');
        return json(201, created);
      }
      case 'get jobs': {
        const job = await cluster.getJob(namespace, name!);
        return job ? json(200, job) : statusReply(404, 'NotFound', `jobs.batch "${name}" not found`);
      }
      case 'list jobs': {
        const list = await cluster.listJobs(namespace, query.get('labelSelector') ?? '');
        return json(200, {
          kind: 'JobList',
          apiVersion: 'batch/v1',
          metadata: { resourceVersion: list.resourceVersion },
          items: list.items,
        });
      }
      case 'delete jobs': {
        const policy = query.get('propagationPolicy') === 'Background' ? 'Background' : 'Foreground';
        const deleted = await cluster.deleteJob(namespace, name!, { propagationPolicy: policy });
        return deleted
          ? json(200, {
              kind: 'Status',
              apiVersion: 'v1',
              status: 'Success',
              details: { name, group: 'batch', kind: 'jobs' },
            })
          : statusReply(404, 'NotFound', `jobs.batch "${name}" not found`);
      }
      case 'list pods': {
        const list = await cluster.listPods(namespace, query.get('labelSelector') ?? '');
        return json(200, {
          kind: 'PodList',
          apiVersion: 'v1',
          metadata: { resourceVersion: list.resourceVersion },
          items: list.items,
        });
      }
      case 'get pods/log': {
        const text = await cluster.readPodLog(namespace, name!, logOptions(query));
        return { status: 200, body: text, contentType: 'text/plain' };
      }
      case 'list events': {
        const selector = fieldSelector(query.get('fieldSelector') ?? '');
        const kind = selector['involvedObject.kind'] === 'Pod' ? 'Pod' : 'Job';
        const uid = selector['involvedObject.uid'];
        const events = await cluster.listWarningEvents(namespace, {
          kind,
          name: selector['involvedObject.name'] ?? '',
          ...(uid ? { uid } : {}),
        });
        return json(200, { kind: 'EventList', apiVersion: 'v1', metadata: {}, items: events });
      }
      default:
        return statusReply(405, 'MethodNotAllowed', `${route.verb} ${route.resource} is not served`);
    }
  } catch (error) {
    return errorReply(error);
  }
}

/** A watch: `200` then one JSON event per line; a too-old resourceVersion gets an in-stream ERROR 410, as the API server sends it. */
async function serveWatch(
  cluster: SimCluster,
  route: Route,
  req: IncomingMessage,
  res: ServerResponse,
  counters: Counters,
  open: Set<ServerResponse>,
): Promise<void> {
  const stop = new AbortController();
  res.on('close', () => {
    stop.abort();
    open.delete(res);
  });
  req.on('close', () => stop.abort());
  res.writeHead(200, { 'Content-Type': 'application/json' });
  res.flushHeaders();
  open.add(res);
  counters.watchOpened(open.size);
  const { query, namespace } = route;
  const timeout = query.get('timeoutSeconds');
  const write = (event: unknown) => {
    if (!res.destroyed) res.write(`${JSON.stringify(event)}\n`);
  };
  const watchOptions = {
    labelSelector: query.get('labelSelector') ?? '',
    resourceVersion: query.get('resourceVersion') ?? '',
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

/** A log follow: checked like a plain read first (a waiting container gets 400), then streamed until the container ends. */
async function serveLogFollow(
  cluster: SimCluster,
  route: Route,
  req: IncomingMessage,
  res: ServerResponse,
  counters: Counters,
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
    counters.logStreamClosed();
  });
  req.on('close', () => stop.abort());
  res.writeHead(200, { 'Content-Type': 'text/plain' });
  res.flushHeaders();
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

/** Plays a fault on the response. */
function inject(fault: Fault, req: IncomingMessage, res: ServerResponse, body: string): void {
  if (fault.type === 'reset') {
    req.socket.destroy();
    return;
  }
  const message =
    typeof fault.message === 'function'
      ? fault.message(body)
      : (fault.message ?? `injected fault: HTTP ${fault.status}`);
  const reason = REASONS[fault.status] ?? 'InternalError';
  const headers: Record<string, string> =
    fault.retryAfterSeconds !== undefined ? { 'Retry-After': String(fault.retryAfterSeconds) } : {};
  const status = statusBody(fault.status, reason, message);
  const reply = json(fault.status, fault.details ? { ...status, details: fault.details(body) } : status);
  send(res, reply, headers);
}

const REASONS: Readonly<Record<number, string>> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  409: 'AlreadyExists',
  410: 'Expired',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

function statusOf(error: unknown): { status: number; reason: string; message: string } {
  if (error instanceof ApiError) {
    const status = error.status ?? 500;
    return { status, reason: REASONS[status] ?? 'InternalError', message: error.message };
  }
  return { status: 500, reason: 'InternalError', message: String(error) };
}

function errorReply(error: unknown): Reply {
  const { status, reason, message } = statusOf(error);
  return statusReply(status, reason, message);
}

function statusBody(code: number, reason: string, message: string) {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

function statusReply(status: number, reason: string, message: string): Reply {
  return json(status, statusBody(status, reason, message));
}

function json(status: number, value: unknown): Reply {
  return { status, body: JSON.stringify(value), contentType: 'application/json' };
}

function send(res: ServerResponse, reply: Reply, headers: Record<string, string> = {}): void {
  if (res.destroyed) return;
  res.writeHead(reply.status, { 'Content-Type': reply.contentType, ...headers });
  res.end(reply.body);
}

function sendStatus(res: ServerResponse, status: number, reason: string, message: string): void {
  send(res, statusReply(status, reason, message));
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function logOptions(query: URLSearchParams) {
  const container = query.get('container');
  const tailLines = query.get('tailLines');
  const sinceTime = query.get('sinceTime');
  return {
    ...(container !== null ? { container } : {}),
    ...(tailLines !== null ? { tailLines: Number(tailLines) } : {}),
    ...(sinceTime !== null ? { sinceTime } : {}),
  };
}

/** `a=b,c=d` → `{ a: 'b', c: 'd' }` (the adapter only sends equality terms). */
function fieldSelector(text: string): Record<string, string> {
  return Object.fromEntries(
    text
      .split(',')
      .filter((term) => term.includes('='))
      .map((term) => [term.slice(0, term.indexOf('=')), term.slice(term.indexOf('=') + 1)]),
  );
}

function kubeconfig(url: string, token: string, namespace: string): string {
  // JSON is YAML: client-node's loadFromFile reads it as is.
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'fake', cluster: { server: url, 'insecure-skip-tls-verify': true } }],
    users: [{ name: 'fake', user: { token } }],
    contexts: [{ name: 'fake', context: { cluster: 'fake', user: 'fake', namespace } }],
    'current-context': 'fake',
  });
}

/** The request counters. */
class Counters {
  private requests = 0;
  private byCall = new Map<string, number>();
  private faults = new Map<string, number>();
  private creates = new Map<string, number>();
  private maxOpenWatches = 0;
  private openLogStreams = 0;
  private maxOpenLogStreams = 0;

  request(route: Route | undefined): void {
    this.requests++;
    bump(this.byCall, route ? callKey(route) : 'unknown');
  }

  fault(route: Route): void {
    bump(this.faults, callKey(route));
  }

  created(name: string): void {
    bump(this.creates, name);
  }

  watchOpened(open: number): void {
    this.maxOpenWatches = Math.max(this.maxOpenWatches, open);
  }

  logStreamOpened(): void {
    this.openLogStreams++;
    this.maxOpenLogStreams = Math.max(this.maxOpenLogStreams, this.openLogStreams);
  }

  logStreamClosed(): void {
    this.openLogStreams--;
  }

  reset(openWatches: number): void {
    this.requests = 0;
    this.byCall = new Map();
    this.faults = new Map();
    this.creates = new Map();
    this.maxOpenWatches = openWatches;
    this.maxOpenLogStreams = this.openLogStreams;
  }

  snapshot(): Omit<FakeApiServerStats, 'openWatches' | 'finalConditionAt'> {
    return {
      requests: this.requests,
      byCall: Object.fromEntries(this.byCall),
      faults: Object.fromEntries(this.faults),
      maxOpenWatches: this.maxOpenWatches,
      openLogStreams: this.openLogStreams,
      maxOpenLogStreams: this.maxOpenLogStreams,
      createdJobs: Object.fromEntries(this.creates),
    };
  }
}

function bump(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}
