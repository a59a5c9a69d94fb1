/**
 * Regression (review findings 3 and 4). Before: `k8s-executor run ... | head` (or a log collector that dies, a CI step's pipe closed)
 * crashes the CLI on the first write after its stdout closed: Node's unhandled `'error'` event (write EPIPE)
 * with a stack trace on stderr, exit 1, and the Jobs the run created are left running, never followed or
 * cleaned up (Ctrl-C would delete them). Now a closed stdout (or stderr) cancels the run as Ctrl-C does:
 * its Jobs are deleted and it exits 141 (128 + SIGPIPE). SIGHUP cancels likewise, exit 129.
 */
import { afterEach, expect, it } from 'vitest';
import { projectFiles, writeProject } from '../helpers/project.js';
import { type FakeApiServer, startFakeApiServer } from '../support/fake-apiserver/index.js';
import { spawnCli } from './support/spawn-cli.js';

let server: FakeApiServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

it('a run whose stdout is closed mid-run neither crashes nor leaves its Jobs behind', async () => {
  server = await startFakeApiServer({ scripts: () => [{ runMs: 3000, logs: ['one', 'two', 'three'] }] });
  const dir = writeProject(projectFiles('  - uuid: a\n  - uuid: b\n  - uuid: c\n    upstream_blocks: [a]\n'));
  const child = spawnCli(['run', '--project', dir, '--pipeline', 'etl'], {
    KUBECONFIG: server.kubeconfigPath,
  });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  // The reader goes away after a few lines, as `| head -4` does.
  child.stdout.on('data', (d) => {
    stdout += d;
    if (stdout.split('\n').length > 4) child.stdout.destroy();
  });
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  expect(stderr).not.toMatch(/EPIPE|Unhandled 'error' event/);
  expect(Object.keys(server.stats().createdJobs).length).toBeGreaterThan(0);
  // Whatever the exit code, nothing this run created is left behind.
  expect({ code, left: server.cluster.jobs().map((j) => j.metadata.name) }).toMatchObject({ left: [] });
  expect(code).toBe(141);
  expect(stderr).toMatch(/stdout closed: cancelling, deleting the Jobs this run created/);
}, 60_000);

/**
 * The same orphaning when the terminal goes away: closing the terminal or a dropped SSH session sends
 * SIGHUP, which the CLI does not handle (only SIGINT and SIGTERM are a cancel), so Node exits at once and
 * the run's Jobs keep running with nobody following them.
 */
it('SIGHUP (the terminal closed) cancels the run like SIGINT: its Jobs are deleted', async () => {
  server = await startFakeApiServer({ scripts: () => [{ hang: true }] });
  const dir = writeProject(projectFiles('  - uuid: a\n  - uuid: b\n'));
  const child = spawnCli(['run', '--project', dir, '--pipeline', 'etl'], {
    KUBECONFIG: server.kubeconfigPath,
  });
  let stdout = '';
  child.stdout.on('data', (d) => {
    stdout += d;
  });
  child.stderr.resume();
  while ((stdout.match(/: running/g) ?? []).length < 2) await new Promise((r) => setTimeout(r, 20));
  child.kill('SIGHUP');
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  for (let i = 0; i < 50 && server.cluster.jobs().length > 0; i++)
    await new Promise((r) => setTimeout(r, 20));
  expect(server.cluster.jobs().map((j) => j.metadata.name)).toEqual([]);
  expect(code).toBe(129);
  expect(stdout).toMatch(/Pipeline etl CANCELLED/);
}, 60_000);
