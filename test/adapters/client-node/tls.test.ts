/**
 * The pooled connections still apply the kubeconfig's TLS settings exactly as client-node does: CA
 * (file or data), client certificate and key (files, data, or from an exec plugin),
 * `insecure-skip-tls-verify` and `tls-server-name`; and keep-alive holds for HTTPS too.
 */
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { createClientNodeAdapters } from '../../../src/adapters/client-node/index.js';
import { kubeconfigOf, writeKubeconfig } from './helpers.js';
import { closeServersAfterEach, json, startServer, tlsFile } from './http.js';

closeServersAfterEach();

/** An HTTPS server that answers every request with the CN of the client certificate (or "anonymous"). */
function whoAmIServer(requestCert = false) {
  return startServer(
    (req, res) => {
      const peer = (req.socket as TLSSocket).getPeerCertificate?.();
      json(res, 200, { metadata: { name: peer?.subject?.CN ?? 'anonymous' } });
    },
    { tls: true, requestCert },
  );
}

const base64 = (file: Parameters<typeof tlsFile>[0]) => readFileSync(tlsFile(file)).toString('base64');

function adapters(url: string, user: Record<string, unknown>, cluster: Record<string, unknown>) {
  return createClientNodeAdapters({
    kubeconfigPath: writeKubeconfig(kubeconfigOf(url, user, cluster)),
    env: {},
  });
}

describe('TLS through the shared pool', () => {
  it('verifies the server with certificate-authority and reuses its connections', async () => {
    const server = await whoAmIServer();
    const { jobClient } = adapters(
      server.url,
      { token: 't' },
      { 'certificate-authority': tlsFile('ca.crt') },
    );
    for (let i = 0; i < 20; i++) {
      await expect(jobClient.getJob('ml', 'x')).resolves.toMatchObject({ metadata: { name: 'anonymous' } });
    }
    expect(server.accepted).toBeLessThanOrEqual(2);
  });

  it('presents the client certificate (data and files) the server asks for', async () => {
    const server = await whoAmIServer(true);
    const fromData = adapters(
      server.url,
      { 'client-certificate-data': base64('client.crt'), 'client-key-data': base64('client.key') },
      { 'certificate-authority-data': base64('ca.crt') },
    );
    await expect(fromData.jobClient.getJob('ml', 'x')).resolves.toMatchObject({
      metadata: { name: 'test-user' },
    });
    const fromFiles = adapters(
      server.url,
      { 'client-certificate': tlsFile('client.crt'), 'client-key': tlsFile('client.key') },
      { 'certificate-authority': tlsFile('ca.crt') },
    );
    await expect(fromFiles.jobClient.getJob('ml', 'x')).resolves.toMatchObject({
      metadata: { name: 'test-user' },
    });
  });

  it('presents the client certificate an exec plugin returns', async () => {
    const server = await whoAmIServer(true);
    const dir = mkdtempSync(join(tmpdir(), 'k8s-executor-exec-'));
    writeFileSync(
      join(dir, 'credential.json'),
      JSON.stringify({
        apiVersion: 'client.authentication.k8s.io/v1',
        kind: 'ExecCredential',
        status: {
          clientCertificateData: readFileSync(tlsFile('client.crt'), 'utf8'),
          clientKeyData: readFileSync(tlsFile('client.key'), 'utf8'),
        },
      }),
    );
    const command = join(dir, 'plugin.sh');
    writeFileSync(command, `#!/bin/sh\ncat "${join(dir, 'credential.json')}"\n`);
    chmodSync(command, 0o755);
    const { jobClient } = adapters(
      server.url,
      { exec: { apiVersion: 'client.authentication.k8s.io/v1', command } },
      { 'certificate-authority': tlsFile('ca.crt') },
    );
    await expect(jobClient.getJob('ml', 'x')).resolves.toMatchObject({ metadata: { name: 'test-user' } });
  });

  it('rejects a server its CA did not sign, unless insecure-skip-tls-verify', async () => {
    const server = await whoAmIServer();
    const verified = adapters(server.url, { token: 't' }, {});
    const error = await verified.jobClient.getJob('ml', 'x').catch((e: unknown) => e);
    // Never retried: waiting does not make a certificate trusted.
    expect(error).toMatchObject({ code: 'API_UNAVAILABLE', transient: false });
    expect((error as Error).message).toContain('failed certificate verification (SELF_SIGNED_CERT_IN_CHAIN)');
    expect(verified.apiCalls().requests).toBe(1);
    const insecure = adapters(server.url, { token: 't' }, { 'insecure-skip-tls-verify': true });
    await expect(insecure.jobClient.getJob('ml', 'x')).resolves.toMatchObject({
      metadata: { name: 'anonymous' },
    });
  });

  it('checks the certificate against tls-server-name', async () => {
    const server = await whoAmIServer();
    const url = server.url.replace('127.0.0.1', 'localhost');
    const ca = { 'certificate-authority': tlsFile('ca.crt') };
    const good = adapters(url, { token: 't' }, { ...ca, 'tls-server-name': 'localhost' });
    await expect(good.jobClient.getJob('ml', 'x')).resolves.toMatchObject({
      metadata: { name: 'anonymous' },
    });
    const wrong = adapters(url, { token: 't' }, { ...ca, 'tls-server-name': 'other.test' });
    await expect(wrong.jobClient.getJob('ml', 'x')).rejects.toMatchObject({
      code: 'API_UNAVAILABLE',
      message: expect.stringContaining('(ERR_TLS_CERT_ALTNAME_INVALID)'),
    });
  });
});
