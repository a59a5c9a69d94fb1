/**
 * The scenarios of `npm run bench:cluster`, against the real control plane of test/e2e/cluster (KWOK
 * plays the kubelet): each runs in an executor process of its own (bench/worker.ts), and its requests
 * are then read back from the API server's audit log, by User-Agent and time window.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { preciseNow as now } from '../../test/support/fake-apiserver/index.js';
import type { BlockTiming, RateLimit } from '../protocol.js';
import { maxRunningAtOnce, RUN_ID_LABEL, runWorker } from '../scenarios.js';
import { type Summary, summarize } from '../stats.js';
import { type AuditRequest, countByCall, createOf, lastStatusWrite, readAudit, requestsOf } from './audit.js';

/** What our adapter sends (src/adapters/client-node/transport.ts). */
export const OUR_USER_AGENT = 'k8s-executor';
/** The namespace of the e2e cluster the scenarios use. */
export const NAMESPACE = 'default';
/** KWOK ends a pod's container after this many seconds (test/e2e/cluster/kwok-stages.yaml). */
const RUN_SECONDS = 'e2e.k8s-executor/run-seconds';

/** The cluster under test. */
export interface Cluster {
  kubeconfigPath: string;
  auditPath: string;
}

/** Requests of one scenario, from the audit log. */
export interface AuditCount {
  /** By `"<verb> <resource>"`; lists of a pipeline run's own Jobs as `"list jobs (run)"`. */
  byCall: Record<string, number>;
  total: number;
  /** Every User-Agent that created one of the scenario's Jobs (only ours, when none overrides it). */
  creatorAgents: string[];
}

/** A chain of sequential blocks (b1 waits for b0, ...) through the pipeline executor, logs followed. */
export interface ClusterChain {
  blocks: number;
  status: string;
  wallMs: number;
  requests: AuditCount;
  /** Upstream's last status write by the Job controller → the downstream's create, received (audit times), ms. */
  handOff: Summary;
  /** The Job controller's final status write (audit) → the executor's `succeeded` event, ms. */
  detection: Summary;
  logLines: number;
  cpuMs: number;
  maxRssMiB: number;
}

/** Runs a chain of `count` 1 s blocks. */
export async function clusterChain(
  cluster: Cluster,
  count: number,
  pipelineRunId: number,
  rateLimit: RateLimit,
): Promise<ClusterChain> {
  const blocks = Array.from({ length: count }, (_, i) => ({
    uuid: `b${i}`,
    upstream: i === 0 ? [] : [`b${i - 1}`],
  }));
  const report = await runWorker({
    kind: 'dag',
    kubeconfigPath: cluster.kubeconfigPath,
    blocks,
    concurrency: 1,
    rateLimit,
    withLogs: true,
    pipelineRunId,
    target: { namespace: NAMESPACE, podAnnotations: { [RUN_SECONDS]: '1' } },
  });
  const dag = report.dag!;
  const audit = await settledAudit(cluster);
  const ours = requestsOf(audit, OUR_USER_AGENT, dag.startedAt, dag.finishedAt);
  // Block i's Job ends in `-b<i>`: the timings in block order.
  const timings = [...(report.timings ?? [])].sort((a, b) => blockOf(a) - blockOf(b));
  const handOff: number[] = [];
  const detection: number[] = [];
  for (const [i, t] of timings.entries()) {
    const final =
      t.detectedAt === undefined
        ? undefined
        : lastStatusWrite(audit, t.jobName, t.detectedAt, OUR_USER_AGENT);
    if (final === undefined) continue;
    detection.push(t.detectedAt! - final);
    const next = timings[i + 1] ? createOf(audit, timings[i + 1]!.jobName) : undefined;
    if (next) handOff.push(next.receivedAt - final);
  }
  return {
    blocks: count,
    status: dag.status,
    wallMs: dag.finishedAt - dag.startedAt,
    requests: auditCount(
      audit,
      ours,
      timings.map((t) => t.jobName),
    ),
    handOff: summarize(handOff),
    detection: summarize(detection),
    logLines: dag.logLines ?? 0,
    cpuMs: report.cpuMs,
    maxRssMiB: report.maxRssMiB,
  };
}

/** Independent blocks all started at once through one block executor, logs followed. */
export interface ClusterConcurrent {
  blocks: number;
  runSeconds: number;
  /** Blocks given a log sink. */
  logBlocks: number;
  rateLimit: RateLimit;
  /** Blocks that did not succeed (KWOK runs every pod to success), or have no result. */
  wrongResults: number;
  maxRunning: number;
  requests: AuditCount;
  detection: Summary;
  /** The three slowest detections, with every status write of their Jobs (to read what happened). */
  slowestDetections: {
    jobName: string;
    ms: number;
    detectedAt: string;
    statusWrites: string[];
    runningAt?: string;
  }[];
  logLines: number;
  /** How many blocks got how many log lines (KWOK's pods print 4 each). */
  logLinesPerBlock: Record<string, number>;
  /** Lines received that are not among the lines KWOK's pods print, with how often. */
  unexpectedLines: Record<string, number>;
  /** How many Jobs had how many pods whose log was read (a pod that failed is replaced by the Job). */
  podsPerJob: Record<string, number>;
  wallMs: number;
  cpuMs: number;
  maxRssMiB: number;
  maxSockets: number;
}

/** Runs `count` blocks of `runSeconds` at once, the first `logBlocks` of them with a log sink. */
export async function clusterConcurrent(
  cluster: Cluster,
  count: number,
  runSeconds: number,
  logBlocks: number,
  rateLimit: RateLimit,
): Promise<ClusterConcurrent> {
  const from = now();
  const report = await runWorker({
    kind: 'blocks',
    kubeconfigPath: cluster.kubeconfigPath,
    count,
    withLogs: true,
    logBlocks,
    keepLines: true,
    rateLimit,
    target: { namespace: NAMESPACE, podAnnotations: { [RUN_SECONDS]: String(runSeconds) } },
  });
  const to = now();
  const audit = await settledAudit(cluster);
  const timings = report.timings ?? [];
  const detected = timings.flatMap((t) => {
    const final =
      t.detectedAt === undefined
        ? undefined
        : lastStatusWrite(audit, t.jobName, t.detectedAt, OUR_USER_AGENT);
    return final === undefined
      ? []
      : [
          {
            jobName: t.jobName,
            ms: t.detectedAt! - final,
            detectedAt: t.detectedAt!,
            runningAt: t.runningAt,
          },
        ];
  });
  const detection = detected.map((d) => d.ms);
  const slowest = [...detected].sort((a, b) => b.ms - a.ms).slice(0, 3);
  return {
    blocks: count,
    runSeconds,
    logBlocks,
    rateLimit,
    wrongResults: count - timings.filter((t) => t.status === 'succeeded').length,
    maxRunning: maxRunningAtOnce(timings),
    requests: auditCount(
      audit,
      requestsOf(audit, OUR_USER_AGENT, from, to),
      timings.map((t) => t.jobName),
    ),
    detection: summarize(detection),
    slowestDetections: slowest.map((d) => ({
      jobName: d.jobName,
      ms: d.ms,
      detectedAt: new Date(d.detectedAt).toISOString(),
      statusWrites: audit
        .filter((r) => r.resource === 'jobs/status' && r.name === d.jobName && r.completedAt !== undefined)
        .map((r) => new Date(r.completedAt!).toISOString()),
      ...(d.runningAt !== undefined ? { runningAt: new Date(d.runningAt).toISOString() } : {}),
    })),
    logLines: timings.reduce((n, t) => n + (t.logLines ?? 0), 0),
    logLinesPerBlock: histogram(timings.map((t) => t.logLines ?? 0)),
    unexpectedLines: unexpected(timings.flatMap((t) => t.lines ?? [])),
    podsPerJob: histogram(
      timings.map(
        (t) =>
          new Set(
            audit.filter((r) => r.resource === 'pods/log' && podOf(r.name, t.jobName)).map((r) => r.name),
          ).size,
      ),
    ),
    wallMs: report.wallMs,
    cpuMs: report.cpuMs,
    maxRssMiB: report.maxRssMiB,
    maxSockets: report.maxSockets,
  };
}

/** Mage's own JobManager (mage-ai from PyPI) running sequential blocks (bench/cluster/mage_job_manager.py). */
export type MageRun =
  | { ran: false; why: string }
  | {
      ran: true;
      mageVersion: string;
      kubernetesClientVersion: string;
      userAgent: string;
      blocks: number;
      wallMs: number;
      /** Each block's time, from JobManager's construction to run_job's return, ms. */
      perBlockMs: number[];
      errors: string[];
      requests: AuditCount;
      handOff: Summary;
    };

interface MageOutput {
  mageVersion: string;
  kubernetesClientVersion: string;
  startedAt: number;
  finishedAt: number;
  blocks: { jobName: string; startedAt: number; finishedAt: number; error?: string }[];
}

/** The Python that has mage-ai: `MAGE_PYTHON`, else node_modules/.cache/mage-venv. */
export function magePython(root: string): { python: string } | { why: string } {
  const python = process.env.MAGE_PYTHON ?? join(root, 'node_modules/.cache/mage-venv/bin/python');
  if (!existsSync(python)) {
    return {
      why: `no Python with mage-ai at ${python} (set MAGE_PYTHON, or: python3 -m venv node_modules/.cache/mage-venv && node_modules/.cache/mage-venv/bin/pip install mage-ai==0.9.80 kubernetes==33.1.0)`,
    };
  }
  const probe = spawnSync(python, ['-c', 'import kubernetes, mage_ai.services.k8s.job_manager'], {
    env: { ...process.env, HOSTNAME: 'probe', KUBE_NAMESPACE: NAMESPACE },
    encoding: 'utf8',
  });
  if (probe.status !== 0)
    return { why: `${python} cannot import Mage's JobManager: ${probe.stderr.trim().split('\n').at(-1)}` };
  return { python };
}

/** Runs Mage's JobManager for `count` sequential blocks and reads its requests from the audit log. */
export async function mageBlocks(
  cluster: Cluster,
  python: string,
  root: string,
  count: number,
): Promise<MageRun> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-mage-'));
  try {
    const out = join(dir, 'mage.json');
    const script = join(root, 'bench/cluster/mage_job_manager.py');
    const run = spawnSync(python, [script, String(count), out], {
      env: {
        ...process.env,
        KUBECONFIG: cluster.kubeconfigPath,
        HOSTNAME: 'mage-server',
        KUBE_NAMESPACE: NAMESPACE,
      },
      encoding: 'utf8',
      stdio: ['ignore', 'inherit', 'pipe'],
    });
    if (run.status !== 0)
      return {
        ran: false,
        why: `Mage's JobManager failed: ${run.stderr.trim().split('\n').slice(-3).join(' ')}`,
      };
    const result = JSON.parse(readFileSync(out, 'utf8')) as MageOutput;
    const audit = await settledAudit(cluster);
    const names = result.blocks.map((b) => b.jobName);
    const userAgent = createOf(audit, names[0] ?? '')?.userAgent ?? '';
    const mages = requestsOf(audit, userAgent, result.startedAt, result.finishedAt);
    const handOff = names.slice(1).flatMap((name, i) => {
      const create = createOf(audit, name);
      const final = create ? lastStatusWrite(audit, names[i]!, create.receivedAt, userAgent) : undefined;
      return create && final !== undefined ? [create.receivedAt - final] : [];
    });
    return {
      ran: true,
      mageVersion: result.mageVersion,
      kubernetesClientVersion: result.kubernetesClientVersion,
      userAgent,
      blocks: count,
      wallMs: result.finishedAt - result.startedAt,
      perBlockMs: result.blocks.map((b) => b.finishedAt - b.startedAt),
      errors: result.blocks.flatMap((b) => (b.error ? [b.error] : [])),
      requests: auditCount(audit, mages, names),
      handOff: summarize(handOff),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function auditCount(
  audit: readonly AuditRequest[],
  requests: readonly AuditRequest[],
  jobNames: readonly string[],
): AuditCount {
  const names = new Set(jobNames);
  const creatorAgents = new Set(
    audit
      .filter((r) => r.verb === 'create' && r.resource === 'jobs' && r.name && names.has(r.name))
      .map((r) => r.userAgent),
  );
  return {
    byCall: countByCall(requests, RUN_ID_LABEL),
    total: requests.length,
    creatorAgents: [...creatorAgents],
  };
}

/** The audit log once the last requests are in it (a watch is logged when it ends). */
async function settledAudit(cluster: Cluster): Promise<AuditRequest[]> {
  await new Promise((resolve) => setTimeout(resolve, 1500));
  return readAudit(cluster.auditPath);
}

function blockOf(t: BlockTiming): number {
  return Number(/-b(\d+)$/.exec(t.jobName)?.[1] ?? -1);
}

/** How often each value occurs. */
function histogram(values: readonly number[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const v of values) counts[v] = (counts[v] ?? 0) + 1;
  return counts;
}

/** What every pod of the e2e cluster prints (test/e2e/cluster/pod-logs/container.log, without times). */
const POD_LINES = new Set([
  'e2e-log: block started',
  'e2e-log: processed 3 rows',
  'e2e-log: a warning on stderr',
  'e2e-log: block finished',
]);

function unexpected(lines: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const line of lines)
    if (!POD_LINES.has(line)) counts[line.slice(0, 200)] = (counts[line.slice(0, 200)] ?? 0) + 1;
  return counts;
}

/** Whether `pod` is a pod of Job `jobName` (the Job controller names them `<job>-<5 characters>`). */
function podOf(pod: string | undefined, jobName: string): boolean {
  return pod !== undefined && pod.length === jobName.length + 6 && pod.startsWith(`${jobName}-`);
}
