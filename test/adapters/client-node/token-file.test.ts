/**
 * Regression (repro `kubeconfig-token-file`): a kubeconfig user's `tokenFile` (client-go's and kubectl's
 * spelling) was ignored, and `token-file` was read once and never again, so a rotated projected token
 * meant 401 forever. Now both are read again every minute and at once after a 401.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createClientNodeAdapters } from '../../../src/adapters/client-node/index.js';
import { FakeClock } from '../../../src/testing/fake-clock.js';
import { kubeconfigOf, writeKubeconfig } from './helpers.js';
import { closeServersAfterEach, json, startServer, unauthorized } from './http.js';

closeServersAfterEach();
afterEach(() => vi.useRealTimers());

/** A server that accepts the tokens in `accepted` and records every Authorization header. */
async function apiServer(accepted: Set<string>) {
  const seen: (string | undefined)[] = [];
  const { url } = await startServer((req, res) => {
    seen.push(req.headers.authorization);
    if (!accepted.has(req.headers.authorization ?? '')) return unauthorized(res);
    json(res, 200, { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'x', namespace: 'ml' } });
  });
  return { url, seen };
}

function tokenFile(token: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'k8s-executor-token-')), 'token');
  writeFileSync(path, token);
  return path;
}

const ok = { metadata: { name: 'x' } };
const codeOf = (e: { code?: string }) => e.code;

describe('kubeconfig token files', () => {
  it('honours `tokenFile` (client-go/kubectl field name)', async () => {
    const { url, seen } = await apiServer(new Set(['Bearer token-A']));
    const kubeconfigPath = writeKubeconfig(kubeconfigOf(url, { tokenFile: tokenFile('token-A\n') }));
    const { jobClient } = createClientNodeAdapters({ kubeconfigPath, env: {} });
    await expect(jobClient.getJob('ml', 'x')).resolves.toMatchObject(ok);
    expect(seen).toEqual(['Bearer token-A']);
  });

  it('re-reads a rotated `token-file` (as client-go does within a minute)', async () => {
    const accepted = new Set(['Bearer token-A']);
    const { url, seen } = await apiServer(accepted);
    const path = tokenFile('token-A');
    const { jobClient } = createClientNodeAdapters({
      kubeconfigPath: writeKubeconfig(kubeconfigOf(url, { 'token-file': path })),
      env: {},
    });
    await expect(jobClient.getJob('ml', 'x')).resolves.toMatchObject(ok);
    // The kubelet rotates the projected token; the old one expires.
    writeFileSync(path, 'token-B');
    accepted.clear();
    accepted.add('Bearer token-B');
    // Let "10 minutes" pass for anything that caches by wall-clock time.
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 10 * 60_000 });
    const after = await jobClient.getJob('ml', 'x').catch(codeOf);
    expect(after).toMatchObject(ok);
    // Read again because a minute had passed, not because of a 401.
    expect(seen).toEqual(['Bearer token-A', 'Bearer token-B']);
  });

  it('reads the file again once it is a minute old, not before (injected clock)', async () => {
    const { url, seen } = await apiServer(new Set(['Bearer token-A', 'Bearer token-B']));
    const path = tokenFile('token-A');
    const clock = new FakeClock();
    const { jobClient } = createClientNodeAdapters({
      kubeconfigPath: writeKubeconfig(kubeconfigOf(url, { tokenFile: path })),
      env: {},
      clock,
    });
    await jobClient.getJob('ml', 'x');
    writeFileSync(path, 'token-B');
    await clock.advance(59_000);
    await jobClient.getJob('ml', 'x');
    await clock.advance(2_000);
    await jobClient.getJob('ml', 'x');
    expect(seen).toEqual(['Bearer token-A', 'Bearer token-A', 'Bearer token-B']);
  });

  it('after a 401 reads the file at once and sends the request once more', async () => {
    const accepted = new Set(['Bearer token-A']);
    const { url, seen } = await apiServer(accepted);
    const path = tokenFile('token-A');
    const adapters = createClientNodeAdapters({
      kubeconfigPath: writeKubeconfig(kubeconfigOf(url, { tokenFile: path })),
      env: {},
      clock: new FakeClock(),
    });
    await adapters.jobClient.getJob('ml', 'x');
    writeFileSync(path, 'token-B');
    accepted.clear();
    accepted.add('Bearer token-B');
    await expect(adapters.jobClient.getJob('ml', 'x')).resolves.toMatchObject(ok);
    expect(seen).toEqual(['Bearer token-A', 'Bearer token-A', 'Bearer token-B']);
    expect(adapters.apiCalls()).toMatchObject({ requests: 3, retries: 1 });
  });

  it('a token file wins over a static token, which is used while the file cannot be read', async () => {
    const { url, seen } = await apiServer(new Set(['Bearer from-file', 'Bearer static']));
    const dir = mkdtempSync(join(tmpdir(), 'k8s-executor-token-'));
    const { jobClient } = createClientNodeAdapters({
      kubeconfigPath: writeKubeconfig(kubeconfigOf(url, { token: 'static', tokenFile: join(dir, 'token') })),
      env: {},
    });
    await jobClient.getJob('ml', 'x');
    writeFileSync(join(dir, 'token'), 'from-file');
    await jobClient.getJob('ml', 'x');
    expect(seen).toEqual(['Bearer static', 'Bearer from-file']);
  });

  it('resolves a relative tokenFile against the kubeconfig folder, as kubectl does', async () => {
    const { url, seen } = await apiServer(new Set(['Bearer relative']));
    const kubeconfigPath = writeKubeconfig(kubeconfigOf(url, { tokenFile: 'sa/token' }));
    const folder = join(kubeconfigPath, '..', 'sa');
    mkdirSync(folder);
    writeFileSync(join(folder, 'token'), 'relative');
    const { jobClient } = createClientNodeAdapters({ kubeconfigPath, env: {} });
    await expect(jobClient.getJob('ml', 'x')).resolves.toMatchObject(ok);
    expect(seen).toEqual(['Bearer relative']);
  });

  it('an unreadable token file without a fallback is API_UNAUTHORIZED naming the file; nothing is sent', async () => {
    const { url, seen } = await apiServer(new Set());
    const missing = join(mkdtempSync(join(tmpdir(), 'k8s-executor-token-')), 'absent');
    const { jobClient } = createClientNodeAdapters({
      kubeconfigPath: writeKubeconfig(kubeconfigOf(url, { tokenFile: missing })),
      env: {},
    });
    const error = await jobClient.getJob('ml', 'x').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'API_UNAUTHORIZED' });
    expect((error as Error).message).toContain(
      `The token file "${missing}" of the kubeconfig user "u" cannot be read`,
    );
    expect(seen).toEqual([]);
  });
});
