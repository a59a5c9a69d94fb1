/**
 * Pins the two private parts of client-node 2.0.1 the adapter relies on (see
 * `src/adapters/client-node/client-node-internals.ts`): an upgrade that renames them fails here first.
 */
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig, RequestContext, type User } from '@kubernetes/client-node';
import { Agent } from 'undici';
import { describe, expect, it } from 'vitest';
import {
  replaceCreateDispatcher,
  runExecPlugin,
} from '../../../src/adapters/client-node/client-node-internals.js';

describe('client-node internals', () => {
  it('applySecurityAuthentication gets its dispatcher from the replaced createDispatcher, with client-node TLS options', async () => {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [
        { name: 'c', server: 'https://k8s.test', skipTLSVerify: true, tlsServerName: 'api.internal' },
      ],
      users: [{ name: 'u', token: 't' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    const ours = new Agent();
    const calls: unknown[] = [];
    replaceCreateDispatcher(kc, (cluster, agentOptions) => {
      calls.push(kc.createDispatcherOptions(cluster, agentOptions));
      return ours;
    });
    const context = new RequestContext('https://k8s.test/api', 'GET');
    await kc.applySecurityAuthentication(context);
    expect(context.getDispatcher()).toBe(ours);
    expect(context.getHeaders().Authorization).toBe('Bearer t');
    expect(calls).toEqual([
      {
        type: 'agent',
        connect: {
          rejectUnauthorized: false,
          servername: 'api.internal',
          keepAlive: true,
          keepAliveInitialDelay: 30_000,
        },
      },
    ]);
    await ours.close();
  });

  it('runExecPlugin returns the whole ExecCredential, expirationTimestamp included', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'k8s-executor-exec-'));
    const command = join(dir, 'plugin.sh');
    const credential = {
      apiVersion: 'client.authentication.k8s.io/v1',
      kind: 'ExecCredential',
      status: { token: 'tok', expirationTimestamp: '2030-01-01T00:00:00Z' },
    };
    writeFileSync(command, `#!/bin/sh\necho '${JSON.stringify(credential)}'\n`);
    chmodSync(command, 0o755);
    const user: User = { name: 'u', exec: { command } };
    await expect(runExecPlugin(user)).resolves.toEqual(credential);
  });
});
