/**
 * `k8s-executor run` against a cluster that misbehaves as real ones do, over real HTTP through the
 * client-node adapter (the fake API server): log streams cut every 300 ms, one 401 and one 403 answered to
 * relists, the token file rotated mid-run. Every block finishes with its true state and every log line is
 * printed exactly once.
 */
import { afterEach, expect, it } from 'vitest';
import { projectWithBlocks } from '../helpers/project.js';
import { type FakeApiServer, startFakeApiServer } from '../support/fake-apiserver/index.js';
import { cli } from './run-cli.js';

let server: FakeApiServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const linesOf = (block: string) => Array.from({ length: 25 }, (_, i) => `${block} line ${i + 1}`);

it('finishes every block with every log line once through cut logs, refused relists and a rotated token', async () => {
  const blocks = ['extract', 'transform', 'load'];
  server = await startFakeApiServer({
    tokenFile: true,
    token: 'token-1',
    logCutEveryMs: 300,
    scripts: (jobName) => {
      const block = blocks.find((b) => jobName.endsWith(`-${b}`)) ?? 'unknown';
      return [{ runMs: 1_500, logs: linesOf(block), ...(block === 'load' ? { exitCode: 4 } : {}) }];
    },
  });
  const project = projectWithBlocks(
    '  - uuid: extract\n  - uuid: transform\n    upstream_blocks: [extract]\n  - uuid: load\n',
  );
  let started = () => {};
  const bothRunning = new Promise<void>((resolve) => {
    started = resolve;
  });
  const argv = ['run', '--project', project, '--pipeline', 'etl', '--pipeline-run-id', '5'];
  const running = cli([...argv, '--kubeconfig', server.kubeconfigPath], { HOME: '/nonexistent' }, (out) => {
    if (out.includes('extract: running') && out.includes('load: running')) started();
  });
  // Mid-run (both first blocks seen running, so the namespace was listed): the credential rotates (the old
  // one refused at once), and the next lists are refused once each.
  await bothRunning;
  setTimeout(() => {
    server?.rotateToken('token-2');
    server?.setFaults([
      { verbs: ['list'], resources: ['pods'], fault: { type: 'status', status: 401 }, count: 1 },
      { verbs: ['list'], resources: ['jobs'], fault: { type: 'status', status: 403 }, count: 1 },
    ]);
    server?.expireWatchHistory();
    server?.dropWatches();
  }, 50);
  const { code, stdout } = await running;

  expect(code).toBe(1); // `load` exits 4: the run failed, for that reason only
  expect(stdout).toMatch(/extract\s+succeeded/);
  expect(stdout).toMatch(/transform\s+succeeded/);
  expect(stdout).toMatch(/load\s+failed.*EXIT_CODE/);
  for (const block of blocks) {
    for (const line of linesOf(block)) {
      // The streamed lines (`  [block] text`); the failure summary repeats the last lines apart.
      const printed = stdout.split('\n').filter((l) => l === `  [${block}] ${line}`);
      expect(printed, `"${line}" printed ${printed.length} times`).toHaveLength(1);
    }
  }
  const stats = server.stats();
  expect(Object.values(stats.createdJobs)).toEqual([1, 1, 1]);
  expect(stats.unauthorized).toBeGreaterThan(0);
}, 30_000);
