/**
 * Regression (review finding `exec-plugin-hangs`): an exec credential plugin that never exits (an SSO
 * login waiting for a browser, a cloud CLI waiting on a prompt: client-node gave it a stdin pipe nobody
 * writes to) made every request wait forever, past `requestTimeoutMs` and past its AbortSignal. Now the
 * plugin gets no stdin, a request waits for it only within its own time limit and signal, and a run is
 * killed after `execTimeoutMs`; the next request starts a new one.
 */
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runExecPlugin } from '../../../src/adapters/client-node/exec-plugin.js';
import { createClientNodeAdapters } from '../../../src/adapters/client-node/index.js';
import { ClientNodeJobClient } from '../../../src/adapters/client-node/job-client.js';
import { KubeApi } from '../../../src/adapters/client-node/kube-api.js';
import { loadKubeconfig } from '../../../src/adapters/client-node/kubeconfig.js';
import { systemClock } from '../../../src/ports/clock.js';
import { FakeClock } from '../../../src/testing/fake-clock.js';
import { kubeconfigOf, writeKubeconfig } from './helpers.js';
import { closeServersAfterEach, json, startServer } from './http.js';

closeServersAfterEach();

const CREDENTIAL =
  '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"t"}}';

/** Writes an executable shell script into a new folder and returns its path and a `runs` counter. */
function script(body: string): { command: string; runs: () => number } {
  const dir = mkdtempSync(join(tmpdir(), 'k8s-executor-exec-hang-'));
  const command = join(dir, 'get-token.sh');
  const runs = join(dir, 'runs');
  writeFileSync(runs, '');
  writeFileSync(command, `#!/bin/sh\necho run >> "${runs}"\n${body}\n`);
  chmodSync(command, 0o755);
  return { command, runs: () => readFileSync(runs, 'utf8').split('\n').filter(Boolean).length };
}

const okServer = () => startServer((_req, res) => json(res, 200, { metadata: { name: 'x' } }));

const outcomeOf = (p: Promise<unknown>) =>
  p.then(
    () => 'resolved',
    (e: { code?: string; message?: string }) => `rejected ${e.code}: ${e.message}`,
  );

describe('an exec plugin that never exits', () => {
  it('a request whose exec plugin never exits fails within requestTimeoutMs instead of hanging', async () => {
    const { url } = await okServer();
    const dir = mkdtempSync(join(tmpdir(), 'k8s-executor-exec-hang-'));
    const command = join(dir, 'get-token.sh');
    // Waits for an answer on stdin that never comes (an interactive login prompt).
    writeFileSync(command, '#!/bin/sh\necho "Enter your one-time code:" >&2\nread code\necho "{}"\n');
    chmodSync(command, 0o755);
    const exec = { apiVersion: 'client.authentication.k8s.io/v1', command, interactiveMode: 'IfAvailable' };
    const { jobClient } = createClientNodeAdapters({
      kubeconfigPath: writeKubeconfig(kubeconfigOf(url, { exec })),
      env: {},
      requestTimeoutMs: 300,
      retry: { baseDelayMs: 1, maxDelayMs: 1, maxAttempts: 2 },
    });
    const outcome = await Promise.race([
      jobClient.getJob('default', 'x').then(
        () => 'resolved',
        (e: { code?: string }) => `rejected ${e.code}`,
      ),
      new Promise<string>((resolve) => setTimeout(() => resolve('still waiting after 5 s'), 5_000)),
    ]);
    expect(outcome).toMatch(/^rejected API_(UNAUTHORIZED|UNAVAILABLE)$/);
  });

  it('the prompt reads end-of-file at once: the message names the plugin and what it said', async () => {
    const { url } = await okServer();
    const plugin = script('echo "Enter your one-time code:" >&2\nread code\necho "{}"');
    const exec = { apiVersion: 'client.authentication.k8s.io/v1', command: plugin.command };
    const { jobClient } = createClientNodeAdapters({
      kubeconfigPath: writeKubeconfig(kubeconfigOf(url, { exec })),
      env: {},
    });
    const outcome = await outcomeOf(jobClient.getJob('default', 'x'));
    expect(outcome).toContain(
      `rejected API_UNAUTHORIZED: No credentials for "get" "jobs" (group "batch") "x" in namespace "default": The exec credential plugin "${plugin.command}" ` +
        'of the kubeconfig user "u" failed: its ExecCredential has no status; on stderr it said: "Enter your one-time code:".',
    );
    expect(outcome).toContain('interactiveMode: Never');
  });

  it('an abort reaches a request that waits for a hung exec plugin', async () => {
    const { url } = await okServer();
    const dir = mkdtempSync(join(tmpdir(), 'k8s-executor-exec-hang-'));
    const command = join(dir, 'get-token.sh');
    writeFileSync(command, '#!/bin/sh\nread code\necho "{}"\n');
    chmodSync(command, 0o755);
    const exec = { apiVersion: 'client.authentication.k8s.io/v1', command, interactiveMode: 'Never' };
    const { jobClient } = createClientNodeAdapters({
      kubeconfigPath: writeKubeconfig(kubeconfigOf(url, { exec })),
      env: {},
    });
    const abort = new AbortController();
    setTimeout(() => abort.abort(new Error('Ctrl-C')), 200);
    const outcome = await Promise.race([
      jobClient.getJob('default', 'x', { signal: abort.signal }).then(
        () => 'resolved',
        () => 'rejected',
      ),
      new Promise<string>((resolve) => setTimeout(() => resolve('still waiting 3 s after the abort'), 3_200)),
    ]);
    expect(outcome).toBe('rejected');
  });

  it('a plugin waiting for a browser (not on stdin): the request fails at its time limit, naming the plugin', async () => {
    const { url } = await okServer();
    const plugin = script('exec sleep 30');
    const exec = { apiVersion: 'client.authentication.k8s.io/v1', command: plugin.command };
    const { jobClient } = createClientNodeAdapters({
      kubeconfigPath: writeKubeconfig(kubeconfigOf(url, { exec })),
      env: {},
      requestTimeoutMs: 200,
    });
    const outcome = await outcomeOf(jobClient.getJob('default', 'x'));
    expect(outcome).toContain(
      `rejected API_UNAUTHORIZED: No credentials for "get" "jobs" (group "batch") "x" in namespace "default": The exec credential plugin "${plugin.command}" ` +
        `of the kubeconfig user "u" printed no credential within the request's time limit (requestTimeoutMs)`,
    );
    expect(outcome).toContain('log in beforehand');
  });

  it('a request that gave up waiting leaves the run going: the next request joins it (single flight)', async () => {
    const { url } = await okServer();
    const plugin = script(`sleep 1\necho '${CREDENTIAL}'`);
    const exec = { apiVersion: 'client.authentication.k8s.io/v1', command: plugin.command };
    // One kubeconfig (one credential cache) shared by an impatient and a patient client.
    const kubeconfig = loadKubeconfig({
      kubeconfigPath: writeKubeconfig(kubeconfigOf(url, { exec })),
      env: {},
    });
    const impatient = new ClientNodeJobClient(new KubeApi({ kubeconfig, requestTimeoutMs: 200 }));
    const patient = new ClientNodeJobClient(new KubeApi({ kubeconfig, requestTimeoutMs: 10_000 }));
    expect(await outcomeOf(impatient.getJob('ml', 'x'))).toMatch(/^rejected API_UNAUTHORIZED/);
    expect(await outcomeOf(patient.getJob('ml', 'x'))).toBe('resolved');
    expect(plugin.runs()).toBe(1);
  });

  it('a run is killed after execTimeoutMs, and the next request runs the plugin again', async () => {
    const { url } = await okServer();
    const dir = mkdtempSync(join(tmpdir(), 'k8s-executor-exec-hang-'));
    const marker = join(dir, 'hung-once');
    // The first run hangs (a login nobody completes); the next one prints a credential.
    const plugin = script(
      `if [ ! -e "${marker}" ]; then touch "${marker}"; exec sleep 30; fi\necho '${CREDENTIAL}'`,
    );
    const exec = { apiVersion: 'client.authentication.k8s.io/v1', command: plugin.command };
    const clock = new FakeClock();
    const kubeconfig = loadKubeconfig({
      kubeconfigPath: writeKubeconfig(kubeconfigOf(url, { exec })),
      env: {},
      clock,
      execTimeoutMs: 5_000,
    });
    const jobClient = new ClientNodeJobClient(new KubeApi({ kubeconfig, clock }));
    const first = outcomeOf(jobClient.getJob('ml', 'x'));
    // Let the plugin start (real time) before the fake clock moves past its bound.
    while (plugin.runs() === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    await clock.advance(5_000);
    expect(await first).toContain(
      `rejected API_UNAUTHORIZED: No credentials for "get" "jobs" (group "batch") "x" in namespace "ml": The exec credential plugin "${plugin.command}" ` +
        'of the kubeconfig user "u" failed: it had not exited after 5 s and was stopped.',
    );
    expect(await outcomeOf(jobClient.getJob('ml', 'x'))).toBe('resolved');
    expect(plugin.runs()).toBe(2);
  });
});

describe('runExecPlugin', () => {
  const run = (command: string) => runExecPlugin({ command }, { timeoutMs: 10_000, clock: systemClock });

  it('returns the ExecCredential status, expirationTimestamp included', async () => {
    const credential = {
      apiVersion: 'client.authentication.k8s.io/v1',
      kind: 'ExecCredential',
      status: { token: 'tok', expirationTimestamp: '2030-01-01T00:00:00Z' },
    };
    const plugin = script(`echo '${JSON.stringify(credential)}'`);
    await expect(run(plugin.command)).resolves.toEqual(credential.status);
  });

  it('gives the plugin no stdin and tells it, through KUBERNETES_EXEC_INFO, that nobody can answer', async () => {
    const info = join(mkdtempSync(join(tmpdir(), 'k8s-executor-exec-info-')), 'info');
    // With a stdin pipe nobody writes to, `read` would wait forever; with none it ends at once.
    const plugin = script(
      `if read line; then exit 3; fi\nprintf %s "$KUBERNETES_EXEC_INFO" > "${info}"\necho '${CREDENTIAL}'`,
    );
    const status = await runExecPlugin(
      { command: plugin.command, apiVersion: 'client.authentication.k8s.io/v1' },
      { timeoutMs: 10_000, clock: systemClock },
    );
    expect(status).toEqual({ token: 't' });
    expect(JSON.parse(readFileSync(info, 'utf8'))).toEqual({
      apiVersion: 'client.authentication.k8s.io/v1',
      kind: 'ExecCredential',
      spec: { interactive: false },
    });
  });

  it('a credential without a token or a client certificate is refused', async () => {
    const plugin = script('echo \'{"status":{"expirationTimestamp":"2030-01-01T00:00:00Z"}}\'');
    await expect(run(plugin.command)).rejects.toMatchObject({
      kind: 'output',
      message:
        'its ExecCredential has neither status.token nor status.clientCertificateData and clientKeyData',
    });
  });

  it('a plugin that cannot start says why', async () => {
    await expect(run('/nonexistent/get-token')).rejects.toMatchObject({
      kind: 'start',
      message: expect.stringContaining('ENOENT'),
    });
  });
});
