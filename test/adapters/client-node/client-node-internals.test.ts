/**
 * Pins the private part of client-node 2.0.1 the adapter relies on (see
 * `src/adapters/client-node/client-node-internals.ts`): an upgrade that renames it fails here first.
 */
import { KubeConfig, RequestContext } from '@kubernetes/client-node';
import { Agent } from 'undici';
import { describe, expect, it } from 'vitest';
import { replaceCreateDispatcher } from '../../../src/adapters/client-node/client-node-internals.js';

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
});
