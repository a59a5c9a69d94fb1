import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimCluster, type WatchListSupport } from '../../../src/adapters/local/sim/sim-cluster.js';
import { type Clock, systemClock } from '../../../src/ports/clock.js';
import { type PodScript, ScriptedPodRunner } from '../../../src/testing/pod-script.js';
import type { Job } from '../../../src/types/kube.js';
import { Counters } from './counters.js';
import { Credentials, kubeconfig } from './credentials.js';
import { FaultPlan, type FaultRule } from './fault-plan.js';
import { FinalConditionRecorder } from './final-condition-recorder.js';
import { inject, send, sendStatus } from './replies.js';
import { type Route, routeOf } from './routes.js';
import { seededRandom } from './seeded-random.js';
import { serve } from './serve.js';
import { type OpenStreams, serveLogFollow, serveWatch } from './streams.js';

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
  /** The bearer token the kubeconfig carries and the server demands (see {@link FakeApiServer.rotateToken}). @default 'fake-apiserver-token' */
  token?: string;
  /**
   * The kubeconfig points at a token file (client-go's `tokenFile`) instead of carrying the token, and
   * {@link FakeApiServer.rotateToken} writes each new token to it, as the kubelet refreshes a projected
   * ServiceAccount token. @default false
   */
  tokenFile?: boolean;
  /**
   * How often the kubelet checks whether a followed container still runs while the follow waits for
   * lines (its `logForceCheckPeriod`): a follow open when the container exits ends at the first check
   * after, up to this long after the last line, as on a real node; 0 ends it with the container.
   * @default 1000
   */
  logFollowCheckMs?: number;
  /** Cut every open log follow this often (on `clock`), cleanly: the stream ends, the container goes on. @default never */
  logCutEveryMs?: number;
  /**
   * Drop every open watch this often (on `clock`), after forgetting the watch history: the resume
   * gets 410 Gone and the client relists. @default never
   */
  watchDropEveryMs?: number;
  /** The kubeconfig context's namespace. @default 'default' */
  namespace?: string;
  /**
   * What a streaming list (`sendInitialEvents=true`, which the client-node adapter asks for) gets:
   * served as Kubernetes >= 1.32 does, refused with 422 as 1.27 to 1.31 do by default, or ignored as
   * older servers do. @default 'refuse'
   */
  watchList?: WatchListSupport;
}

/** What the server saw. Keys of `byCall` and `faults` are `"<verb> <resource>"`, as the adapter's `apiCalls()`. */
export interface FakeApiServerStats {
  /** Every request received (faulted ones included). */
  requests: number;
  /** Requests by `"<verb> <resource>"`. */
  byCall: Record<string, number>;
  /** Injected faults by `"<verb> <resource>"`. */
  faults: Record<string, number>;
  /** Requests refused with 401 because their bearer token was not accepted. */
  unauthorized: number;
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
  /**
   * Cuts every open log follow: `abrupt`ly (the connection is destroyed) or cleanly (the stream ends,
   * as after an idle timeout of a proxy). The containers go on writing. Returns how many were cut.
   */
  cutLogStreams(options?: { abrupt?: boolean }): number;
  /**
   * Makes `next` the only accepted token from now on (the old one stays valid for `graceMs`), written to
   * the token file when there is one: the client must pick it up, or get 401s.
   */
  rotateToken(next: string, options?: { graceMs?: number }): void;
  /** Suspends a Job (`spec.suspend: true`) as Kueue preempts it: its pods stop, none is made until resumed. */
  suspendJob(namespace: string, name: string): boolean;
  /** Resumes a suspended Job, as Kueue admits it again: a new pod is made. */
  resumeJob(namespace: string, name: string): boolean;
  /** Stops the pods, closes every connection and the server, removes the kubeconfig. */
  close(): Promise<void>;
}

/**
 * Starts a fake Kubernetes API server on 127.0.0.1 (a free port) that serves exactly the requests the
 * client-node adapter sends: Jobs create/get/list/watch/delete, pods list/watch, pod logs (plain and
 * follow, a follow ending as a kubelet ends it: at its next check after the container exited), warning
 * events. Behind it is the {@link SimCluster} (versioned store, Job controller,
 * resumable watches, 410 past the history, streaming lists served, refused or ignored, lists at any
 * `resourceVersion`) with pods that play {@link PodScript}s on `clock`. On top
 * of it: latency, a fault plan (5xx, 429 + Retry-After, one-off 401/403, connection resets, before or
 * after the work is done), watch drops, history expiry, log stream cuts (now, or every N ms), a bearer
 * token that rotates (optionally through a token file), Jobs suspended and resumed (Kueue), deletes with
 * `preconditions.uid`, log reads with `timestamps` and `sinceTime`, and counters of everything.
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
  const dir = mkdtempSync(join(tmpdir(), 'fake-apiserver-'));
  const credentials = new Credentials(
    options.token ?? 'fake-apiserver-token',
    clock,
    options.tokenFile ? join(dir, 'token') : undefined,
  );
  const scriptsFor = options.scripts ?? (() => [{}]);
  const faults = new FaultPlan(seededRandom(options.seed ?? 1));
  faults.set(options.faults ?? []);
  let latency = options.latencyMs ?? 0;

  const recorder: FinalConditionRecorder = new FinalConditionRecorder(
    new ScriptedPodRunner(clock, (jobName) => [...scriptsFor(jobName)]),
    // Only called when a pod exits, long after `sim` exists.
    (namespace, name): Promise<Job | undefined> => sim.getJob(namespace, name),
  );
  const watchList = options.watchList ?? 'refuse';
  const sim: SimCluster = new SimCluster({
    clock,
    runner: recorder,
    watchList,
    seed: options.seed ?? 1,
    ...(options.watchHistory !== undefined ? { watchHistory: options.watchHistory } : {}),
  });

  const counters = new Counters();
  const open: OpenStreams = {
    watches: new Set<ServerResponse>(),
    logs: new Set<ServerResponse>(),
    cutLogs: new WeakSet<ServerResponse>(),
  };
  const kubelet = { clock, checkMs: options.logFollowCheckMs ?? 1000 };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const route = routeOf(req.method ?? 'GET', req.url ?? '/');
    counters.request(route);
    const body = await readBody(req);
    if (!credentials.accepts(req.headers.authorization)) {
      counters.refused();
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
      await serveWatch(sim, watchList, route, req, res, counters, open);
      return;
    }
    if (route.streaming) {
      await serveLogFollow(sim, route, req, res, counters, open, kubelet);
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
  const kubeconfigPath = join(dir, 'kubeconfig.yaml');
  writeFileSync(kubeconfigPath, kubeconfig(url, credentials, options.namespace ?? 'default'));

  const dropWatches = ({ abrupt = false } = {}) => {
    if (abrupt) for (const res of [...open.watches]) res.destroy();
    else sim.dropWatches();
  };
  const cutLogStreams = ({ abrupt = false } = {}) => {
    if (!abrupt) {
      for (const res of open.logs) open.cutLogs.add(res);
      return sim.cutLogStreams();
    }
    const cut = open.logs.size;
    for (const res of [...open.logs]) res.destroy();
    return cut;
  };
  const disruptions = new AbortController();
  const every = (ms: number | undefined, disrupt: () => void) => {
    if (ms === undefined) return;
    void (async () => {
      for (;;) {
        await clock.sleep(ms, disruptions.signal);
        disrupt();
      }
    })().catch(() => undefined);
  };
  every(options.logCutEveryMs, () => cutLogStreams());
  every(options.watchDropEveryMs, () => {
    sim.expireWatchHistory();
    dropWatches();
  });

  return {
    url,
    kubeconfigPath,
    cluster: sim,
    stats: () => ({
      ...counters.snapshot(),
      openWatches: open.watches.size,
      finalConditionAt: recorder.times(),
    }),
    resetStats: () => counters.reset(open.watches.size),
    setFaults: (rules) => faults.set(rules),
    setLatency: (value) => {
      latency = value;
    },
    dropWatches,
    expireWatchHistory: () => sim.expireWatchHistory(),
    cutLogStreams,
    rotateToken: (next, { graceMs = 0 } = {}) => credentials.rotate(next, graceMs),
    suspendJob: (namespace, name) => sim.setSuspended(namespace, name, true),
    resumeJob: (namespace, name) => sim.setSuspended(namespace, name, false),
    close: async () => {
      disruptions.abort();
      await sim.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
