/**
 * Regression (repro `exec-plugin-401`): an exec credential without `expirationTimestamp` was cached
 * forever and a 401 was final. Now the plugin runs again after a 401 (the request is sent once more),
 * ahead of `expirationTimestamp`, and never twice at once.
 */
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXEC_REFRESH_AHEAD_MS } from '../../../src/adapters/client-node/credentials.js';
import { createClientNodeAdapters } from '../../../src/adapters/client-node/index.js';
import { FakeClock } from '../../../src/testing/fake-clock.js';
import { kubeconfigOf, writeKubeconfig } from './helpers.js';
import { closeServersAfterEach, json, startServer, unauthorized } from './http.js';

closeServersAfterEach();

/**
 * A plugin that prints the token in `current-token` (and the expiry in `expiry`, when that file is
 * not empty), after an optional delay, appending a line to `runs` each time it runs.
 */
function plugin(token: string, options: { expiry?: string; delaySeconds?: number; fail?: string } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'k8s-executor-exec-'));
  const file = (name: string) => join(dir, name);
  writeFileSync(file('current-token'), token);
  writeFileSync(file('expiry'), options.expiry ?? '');
  writeFileSync(file('runs'), '');
  const script = file('get-token.sh');
  writeFileSync(
    script,
    [
      '#!/bin/sh',
      `echo run >> "${file('runs')}"`,
      options.delaySeconds ? `sleep ${options.delaySeconds}` : '',
      options.fail ? `echo "${options.fail}" >&2; echo "usage: get-token [flags]" >&2; exit 1` : '',
      `TOKEN=$(cat "${file('current-token')}"); EXPIRY=$(cat "${file('expiry')}")`,
      'if [ -n "$EXPIRY" ]; then STATUS="\\"token\\":\\"$TOKEN\\",\\"expirationTimestamp\\":\\"$EXPIRY\\""; else STATUS="\\"token\\":\\"$TOKEN\\""; fi',
      'echo "{\\"apiVersion\\":\\"client.authentication.k8s.io/v1\\",\\"kind\\":\\"ExecCredential\\",\\"status\\":{$STATUS}}"',
    ].join('\n'),
  );
  chmodSync(script, 0o755);
  return {
    command: script,
    runs: () => readFileSync(file('runs'), 'utf8').split('\n').filter(Boolean).length,
    rotate: (next: string) => writeFileSync(file('current-token'), next),
    expireAt: (iso: string) => writeFileSync(file('expiry'), iso),
  };
}

async function apiServer(accepted: { token: string }) {
  const seen: (string | undefined)[] = [];
  const { url } = await startServer((req, res) => {
    seen.push(req.headers.authorization);
    if (req.headers.authorization !== `Bearer ${accepted.token}`) return unauthorized(res);
    json(res, 200, { metadata: { name: 'x' } });
  });
  return { url, seen };
}

function adapters(url: string, command: string, clock?: FakeClock) {
  const exec = { apiVersion: 'client.authentication.k8s.io/v1', command, interactiveMode: 'Never' };
  return createClientNodeAdapters({
    kubeconfigPath: writeKubeconfig(kubeconfigOf(url, { exec })),
    env: {},
    ...(clock ? { clock } : {}),
  });
}

const outcome = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e: { code?: string }) => String(e.code),
  );

describe('exec credential plugin', () => {
  it('runs the plugin again after a 401 (as client-go does)', async () => {
    const accepted = { token: 'token-1' };
    const { url } = await apiServer(accepted);
    const exec = plugin('token-1');
    const { jobClient } = adapters(url, exec.command);
    await expect(jobClient.getJob('default', 'x')).resolves.toMatchObject({ metadata: { name: 'x' } });
    // The identity provider rotates the credential; the plugin would now print token-2.
    exec.rotate('token-2');
    accepted.token = 'token-2';
    const results: string[] = [];
    for (let i = 0; i < 3; i++) results.push(await outcome(jobClient.getJob('default', 'x')));
    expect(results).toEqual(['ok', 'ok', 'ok']);
    expect(exec.runs()).toBe(2);
  });

  it('caches a credential without expirationTimestamp until a 401', async () => {
    const { url, seen } = await apiServer({ token: 't' });
    const exec = plugin('t');
    const clock = new FakeClock();
    const { jobClient } = adapters(url, exec.command, clock);
    for (let i = 0; i < 5; i++) {
      await jobClient.getJob('ml', 'x');
      await clock.advance(24 * 3600_000);
    }
    expect(exec.runs()).toBe(1);
    expect(seen).toHaveLength(5);
  });

  it('refreshes a credential ahead of its expirationTimestamp (injected clock)', async () => {
    const accepted = { token: 'token-1' };
    const { url } = await apiServer(accepted);
    const clock = new FakeClock();
    const expiry = clock.now() + 10 * 60_000;
    const exec = plugin('token-1', { expiry: new Date(expiry).toISOString() });
    const { jobClient } = adapters(url, exec.command, clock);
    await jobClient.getJob('ml', 'x');
    await clock.advance(10 * 60_000 - EXEC_REFRESH_AHEAD_MS - 1_000);
    await jobClient.getJob('ml', 'x');
    expect(exec.runs()).toBe(1);
    exec.rotate('token-2');
    exec.expireAt(new Date(expiry + 10 * 60_000).toISOString());
    accepted.token = 'token-2';
    await clock.advance(2_000);
    // Still valid for 29 s, but refreshed now: no request leaves with a token about to expire.
    await expect(jobClient.getJob('ml', 'x')).resolves.toBeDefined();
    expect(exec.runs()).toBe(2);
  });

  it('runs the plugin once for many concurrent requests (single flight)', async () => {
    const { url, seen } = await apiServer({ token: 't' });
    const exec = plugin('t', { delaySeconds: 0.3 });
    const { jobClient } = adapters(url, exec.command);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => outcome(jobClient.getJob('ml', `j${i}`))),
    );
    expect(results).toEqual(Array(20).fill('ok'));
    expect(exec.runs()).toBe(1);
    expect(seen).toHaveLength(20);
  });

  it('a credential still refused after one refresh is API_UNAUTHORIZED (two requests, two runs)', async () => {
    const { url, seen } = await apiServer({ token: 'never' });
    const exec = plugin('bad');
    const adapter = adapters(url, exec.command);
    const error = await adapter.jobClient.getJob('ml', 'x').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'API_UNAUTHORIZED', status: 401 });
    expect((error as Error).message).not.toContain('bad');
    expect(seen).toEqual(['Bearer bad', 'Bearer bad']);
    expect(exec.runs()).toBe(2);
  });

  it('runs a relative plugin path from the kubeconfig folder, as kubectl does', async () => {
    const { url, seen } = await apiServer({ token: 't' });
    const exec = plugin('t');
    const kubeconfigPath = join(dirname(exec.command), 'config');
    writeFileSync(
      kubeconfigPath,
      JSON.stringify(
        kubeconfigOf(url, {
          exec: { apiVersion: 'client.authentication.k8s.io/v1', command: './get-token.sh' },
        }),
      ),
    );
    const { jobClient } = createClientNodeAdapters({ kubeconfigPath, env: {} });
    await expect(jobClient.getJob('ml', 'x')).resolves.toBeDefined();
    expect(seen).toEqual(['Bearer t']);
  });

  it('a failing plugin is API_UNAUTHORIZED with the first line it printed; nothing is sent', async () => {
    const { url, seen } = await apiServer({ token: 't' });
    const exec = plugin('t', { fail: 'error: SSO session expired, run aws sso login' });
    const error = await adapters(url, exec.command)
      .jobClient.getJob('ml', 'x')
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'API_UNAUTHORIZED' });
    expect((error as Error).message).toContain(
      `The exec credential plugin "${exec.command}" of the kubeconfig user "u" failed: error: SSO session expired, run aws sso login.`,
    );
    expect((error as Error).message).not.toContain('usage:');
    expect(seen).toEqual([]);
  });
});
