/**
 * `npm run bench:cluster`: the executor against the real control plane of test/e2e/cluster (etcd,
 * kube-apiserver, kube-controller-manager, kube-scheduler, KWOK as the kubelet), started here with the
 * API server's audit log on (`E2E_AUDIT_LOG=1`) and stopped at the end, whatever happens. Requests are
 * counted from the audit log by User-Agent, hand-offs timed from its timestamps; Mage's own JobManager
 * runs beside it on the same control plane when a Python with mage-ai is found. Writes
 * `bench/results/cluster.json` and the cluster section of `docs/performance.md`.
 * `--no-write` prints the section instead; `--keep` keeps the cluster's folder (its audit log) for a look.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_RATE_LIMIT } from '../scenarios.js';
import { type ClusterResults, renderCluster } from './report.js';
import {
  type Cluster,
  clusterChain,
  clusterConcurrent,
  type MageRun,
  mageBlocks,
  magePython,
} from './scenarios.js';

const ROOT = process.cwd();
const CLUSTER = join(ROOT, 'test/e2e/cluster');
const START = '<!-- bench:cluster:start -->';
const END = '<!-- bench:cluster:end -->';

function log(message: string): void {
  console.log(`[bench:cluster ${new Date().toISOString().slice(11, 19)}] ${message}`);
}

const load = () => loadavg().map((l) => Math.round(l * 100) / 100);

async function main(): Promise<void> {
  const startedAt = new Date().toISOString();
  const loadAtStart = load();
  log(
    `${cpus()[0]?.model ?? 'unknown'} x${cpus().length}, Node ${process.version}, load ${loadAtStart.join(' ')}`,
  );
  const mage = magePython(ROOT);
  const W = mkdtempSync(join(tmpdir(), 'k8s-executor-bench-cluster-'));
  let results: ClusterResults;
  try {
    log(`starting the control plane in ${W} (test/e2e/cluster/up.sh, E2E_AUDIT_LOG=1)`);
    execFileSync('bash', [join(CLUSTER, 'up.sh')], {
      env: { ...process.env, W, E2E_AUDIT_LOG: '1' },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const cluster: Cluster = { kubeconfigPath: join(W, 'kubeconfig'), auditPath: join(W, 'logs/audit.log') };
    // `Kubernetes v1.36.0`
    const version = execFileSync(join(readEnv(W).BIN ?? '', 'kube-apiserver'), ['--version'], {
      encoding: 'utf8',
    }).trim();

    log('a chain of 10 sequential 1 s blocks (pipeline executor, logs followed, default qps 20)');
    const chain = await clusterChain(cluster, 10, 1, DEFAULT_RATE_LIMIT);
    // KWOK spends an inotify instance per log follow; this machine allows 128 per user (docs/performance.md).
    log('200 blocks of 10 s at once (block executor, 50 of them with their logs followed, qps 100)');
    const concurrent = await clusterConcurrent(cluster, 200, 10, 50, { qps: 100, burst: 100 });
    log('side by side: 3 sequential 1 s blocks, k8s-executor');
    const ours = await clusterChain(cluster, 3, 2, DEFAULT_RATE_LIMIT);
    let mageRun: MageRun;
    if ('python' in mage) {
      log(`side by side: 3 sequential 1 s blocks, Mage's own JobManager (${mage.python})`);
      mageRun = await mageBlocks(cluster, mage.python, ROOT, 3);
    } else {
      mageRun = { ran: false, why: mage.why };
    }
    if (!mageRun.ran) log(`Mage not run: ${mageRun.why}`);
    results = {
      machine: {
        cpu: cpus()[0]?.model ?? 'unknown',
        cores: cpus().length,
        node: process.version,
        date: startedAt,
        loadAverageAtStart: loadAtStart,
        loadAverageAtEnd: load(),
      },
      kubernetes: version,
      chain,
      concurrent,
      sideBySide: { ours, mage: mageRun },
    };
  } finally {
    log('stopping the control plane (test/e2e/cluster/down.sh)');
    if (existsSync(join(W, 'pids'))) {
      const keep = process.argv.includes('--keep') ? { E2E_KEEP_W: '1' } : {};
      execFileSync('bash', [join(CLUSTER, 'down.sh')], {
        env: { ...process.env, W, ...keep },
        stdio: 'inherit',
      });
    } else {
      rmSync(W, { recursive: true, force: true });
    }
  }

  const section = renderCluster(results);
  if (process.argv.includes('--no-write')) {
    console.log(section);
    return;
  }
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench/results/cluster.json'), `${JSON.stringify(results, null, 2)}\n`);
  const docPath = join(ROOT, 'docs/performance.md');
  const doc = readFileSync(docPath, 'utf8');
  const start = doc.indexOf(START);
  const end = doc.indexOf(END);
  if (start < 0 || end < start) throw new Error(`docs/performance.md has no ${START} ... ${END} section`);
  writeFileSync(docPath, `${doc.slice(0, start + START.length)}\n${section}\n${doc.slice(end)}`);
  log('wrote bench/results/cluster.json and the cluster section of docs/performance.md');
}

/** The cluster's `env` file (written by up.sh): KEY=value lines. */
function readEnv(W: string): Record<string, string> {
  return Object.fromEntries(
    readFileSync(join(W, 'env'), 'utf8')
      .split('\n')
      .filter((line) => line.includes('='))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
