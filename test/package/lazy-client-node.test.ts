/**
 * The built package loads `@kubernetes/client-node` (and undici) only when a cluster is used: importing
 * `k8s-executor` (ESM or CommonJS), `k8s-executor/testing`, a run on the local backend and the CLI's
 * `render`/`validate` never load them. When a cluster is used, it loads the slice of client-node it
 * bundles (`KubeConfig` without the generated API), never client-node's own modules. Each case runs in
 * a child Node process preloaded with a tracer of every module it loads (`load-tracer.mjs`). The
 * package is built first, from the sources, with the project's tsup config (declarations left out),
 * into `node_modules/.cache/`.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { satisfies } from 'semver';
import { build } from 'tsup';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import tsupConfig from '../../tsup.config.js';
import { kubeconfigOf, writeKubeconfig } from '../adapters/client-node/helpers.js';
import {
  closeServersAfterEach,
  json,
  startProxy,
  startServer,
  tlsFile,
} from '../adapters/client-node/http.js';
import { type FakeApiServer, startFakeApiServer } from '../support/fake-apiserver/server.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const OUT = join(ROOT, 'node_modules', '.cache', 'k8s-executor-package-test');
const TRACER = join(import.meta.dirname, 'load-tracer.mjs');
const run = promisify(execFile);

/** Modules of client-node or undici among the loaded URLs. */
const heavy = (modules: string[]) =>
  modules.filter((url) => /\/node_modules\/(@kubernetes\/client-node|undici)\//.test(url));
/** client-node's own modules among the loaded URLs (the package bundles the slice it uses). */
const clientNodeModules = (modules: string[]) =>
  modules.filter((url) => url.includes('/node_modules/@kubernetes/client-node/'));

/** Runs `args` in a child Node process with the tracer; returns its stdout and the modules it loaded. */
async function traced(args: string[]): Promise<{ stdout: string; modules: string[] }> {
  const { stdout } = await run(process.execPath, ['--import', pathToFileURL(TRACER).href, ...args], {
    cwd: ROOT,
    env: { ...process.env, KUBECONFIG: join(OUT, 'no-such-kubeconfig') },
  });
  const marker = stdout.lastIndexOf('\nMODULES ');
  expect(marker, stdout).toBeGreaterThanOrEqual(0);
  return {
    stdout: stdout.slice(0, marker),
    modules: JSON.parse(stdout.slice(marker + '\nMODULES '.length)) as string[],
  };
}

/** Runs an ES module script (its text) in a traced child process. */
function script(text: string): Promise<{ stdout: string; modules: string[] }> {
  return traced(['--input-type=module', '--eval', text]);
}

const dist = (file: string) => pathToFileURL(join(OUT, file)).href;

let server: FakeApiServer;
beforeAll(async () => {
  await build({ ...tsupConfig, outDir: OUT, dts: false, sourcemap: false, silent: true });
  server = await startFakeApiServer({ namespace: 'default' });
}, 180_000);
afterAll(() => server?.close());

/** A job client's round trip against the fake API server: creates a Job, reads it back, lists it. */
const roundTrip = (kubeconfigPath: string) => `
  const { jobClient } = createClientNodeAdapters({ kubeconfigPath: ${JSON.stringify(kubeconfigPath)} });
  const job = { metadata: { name: 'bundled-kubeconfig-' + (typeof require === 'function' ? 'cjs' : 'esm') }, spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'x' }] } } } };
  await jobClient.createJob('default', job);
  const read = await jobClient.getJob('default', job.metadata.name);
  const listed = await jobClient.listJobs('default', '');
  console.log(read?.metadata?.name === job.metadata.name, listed.items.some((j) => j.metadata?.name === job.metadata.name));
  process.exit(0); // the pool's keep-alive sockets would hold the process open
`;

describe('the built package loads client-node only when a cluster is used', () => {
  it("import('k8s-executor') loads neither client-node nor undici", async () => {
    const { stdout, modules } = await script(
      `const m = await import(${JSON.stringify(dist('index.js'))}); console.log(typeof m.createExecutors, typeof m.createClientNodeAdapters);`,
    );
    expect(stdout.trim()).toBe('function function');
    expect(modules.some((url) => url.endsWith('/index.js'))).toBe(true);
    expect(heavy(modules)).toEqual([]);
  });

  it("require('k8s-executor') (CommonJS) loads neither", async () => {
    const { stdout, modules } = await traced([
      '--eval',
      `const m = require(${JSON.stringify(join(OUT, 'index.cjs'))}); console.log(typeof m.createExecutors);`,
    ]);
    expect(stdout.trim()).toBe('function');
    expect(heavy(modules)).toEqual([]);
  });

  it('k8s-executor/testing, used, loads neither', async () => {
    const { stdout, modules } = await script(`
      const { InMemoryJobClient } = await import(${JSON.stringify(dist('testing/index.js'))});
      const client = new InMemoryJobClient();
      const job = { metadata: { name: 'j' }, spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'x' }] } } } };
      await client.createJob('default', job);
      console.log((await client.listJobs('default', '')).items.length);
      await client.close();
    `);
    expect(stdout.trim()).toBe('1');
    expect(heavy(modules)).toEqual([]);
  });

  it('a pipeline run on the local backend loads neither', async () => {
    const projectDir = mkdtempSync(join(tmpdir(), 'k8s-executor-lazy-'));
    writeFileSync(
      join(projectDir, 'metadata.yaml'),
      'executor_type: k8s\nk8s_executor_config:\n  container:\n    image: busybox\n    command: ["sh", "-c", "echo hi from {{ block_uuid }}"]\n',
    );
    const pipeline = join(projectDir, 'pipelines', 'p');
    mkdirSync(pipeline, { recursive: true });
    writeFileSync(
      join(pipeline, 'metadata.yaml'),
      'uuid: p\nblocks:\n  - uuid: a\n  - uuid: b\n    upstream_blocks: [a]\n',
    );
    const { stdout, modules } = await script(`
      const { createExecutors } = await import(${JSON.stringify(dist('index.js'))});
      const executors = createExecutors({ projectDir: ${JSON.stringify(projectDir)}, backend: 'local', logDrainMs: 10 });
      const result = await executors.pipelines.run({ pipelineUuid: 'p', pipelineRunId: 1 });
      await executors.close();
      console.log(result.status);
    `);
    expect(stdout.trim()).toBe('succeeded');
    expect(heavy(modules)).toEqual([]);
  });

  it.each([
    [
      'render',
      [
        'render',
        '--project',
        'examples/demo-project',
        '--pipeline',
        'etl_demo',
        '--block',
        'extract_users',
        '--block-run-id',
        '1',
      ],
    ],
    ['validate', ['validate', '--project', 'examples/demo-project']],
  ])('the CLI’s %s loads neither', async (_name, args) => {
    const { modules } = await traced([join(OUT, 'cli', 'main.js'), ...args]);
    expect(modules.some((url) => url.includes('/cli'))).toBe(true);
    expect(heavy(modules)).toEqual([]);
  });

  it('used with a cluster (ESM), it talks to the API server through the bundled KubeConfig', async () => {
    const { stdout, modules } = await script(
      `const { createClientNodeAdapters } = await import(${JSON.stringify(dist('index.js'))});${roundTrip(server.kubeconfigPath)}`,
    );
    expect(stdout.trim()).toBe('true true');
    expect(modules.some((url) => /\/node_modules\/undici\//.test(url))).toBe(true);
    expect(clientNodeModules(modules)).toEqual([]);
  });

  it('used with a cluster (CommonJS), the same', async () => {
    const { stdout, modules } = await traced([
      '--eval',
      `const { createClientNodeAdapters } = require(${JSON.stringify(join(OUT, 'index.cjs'))}); (async () => {${roundTrip(server.kubeconfigPath)}})().catch((e) => { console.log(e); process.exitCode = 1; });`,
    ]);
    expect(stdout.trim()).toBe('true true');
    expect(clientNodeModules(modules)).toEqual([]);
  });

  it("the built package carries none of client-node's generated models or APIs", () => {
    const files = readdirSync(OUT, { recursive: true, encoding: 'utf8' }).filter((f) => /\.c?js$/.test(f));
    const text = (f: string) => readFileSync(join(OUT, f), 'utf8');
    // `makeApiClient` is a method of client-node's KubeConfig: the adapter's ESM and CommonJS chunks.
    expect(files.filter((f) => text(f).includes('makeApiClient(')).length).toBe(2);
    expect(
      files.filter((f) => /\b(V1PodSpec|ObjectSerializer|BatchV1ApiRequestFactory)\b/.test(text(f))),
    ).toEqual([]);
  });

  it('imports, of what it does not bundle, only Node built-ins and its declared dependencies, in the ranges client-node asks for', () => {
    const packageJson = (dir: string) => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    const own = packageJson(ROOT);
    const clientNode = packageJson(join(ROOT, 'node_modules', '@kubernetes', 'client-node'));
    const declared: Record<string, string> = { ...own.dependencies, ...own.peerDependencies };
    const imported = new Set<string>();
    for (const file of readdirSync(OUT, { recursive: true, encoding: 'utf8' }).filter((f) =>
      /\.c?js$/.test(f),
    )) {
      const text = readFileSync(join(OUT, file), 'utf8');
      for (const [, a, b, c] of text.matchAll(
        /\bfrom\s*"([^"]+)"|\bimport\(\s*"([^"]+)"\s*\)|\brequire\(\s*"([^"]+)"\s*\)/g,
      )) {
        const specifier = (a ?? b ?? c)!;
        if (specifier.startsWith('.') || specifier.startsWith('node:')) continue;
        const parts = specifier.split('/');
        imported.add(specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!);
      }
    }
    // What the bundled slice of client-node needs, as it stands today: the scan must see it.
    expect([...imported]).toEqual(
      expect.arrayContaining(['openid-client', 'jsonpath-plus', 'undici', 'hpagent']),
    );
    const undeclared = [...imported].filter((name) => !builtinModules.includes(name) && !(name in declared));
    expect(undeclared, 'imported by the build, not in dependencies or peerDependencies').toEqual([]);
    const outOfRange = [...imported]
      .filter((name) => name in (clientNode.dependencies ?? {}))
      .filter((name) => !satisfies(declared[name]!, clientNode.dependencies[name]))
      .map((name) => `${name}: ours ${declared[name]}, client-node wants ${clientNode.dependencies[name]}`);
    expect(outOfRange).toEqual([]);
  });

  it('names the version of client-node it bundles in THIRD-PARTY-NOTICES.md, which it ships', () => {
    const own = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    const { version } = JSON.parse(
      readFileSync(join(ROOT, 'node_modules', '@kubernetes', 'client-node', 'package.json'), 'utf8'),
    );
    expect(readFileSync(join(ROOT, 'THIRD-PARTY-NOTICES.md'), 'utf8')).toContain(
      `| [@kubernetes/client-node](https://github.com/kubernetes-client/javascript) | ${version} |`,
    );
    expect(own.files).toContain('THIRD-PARTY-NOTICES.md');
    expect(own.dependencies).not.toHaveProperty('@kubernetes/client-node');
  });

  it('the first call of a port does load the adapter (the tracer sees it)', async () => {
    const { stdout, modules } = await script(`
      const { createClientNodeAdapters } = await import(${JSON.stringify(dist('index.js'))});
      const { jobClient } = createClientNodeAdapters({ kubeconfigPath: ${JSON.stringify(join(OUT, 'no-such-kubeconfig'))} });
      const error = await jobClient.getJob('default', 'x').catch((e) => e);
      console.log(error.code);
    `);
    expect(stdout.trim()).toBe('NO_CLUSTER');
    expect(modules.some((url) => /\/client-node-[A-Z0-9]+\.js$/.test(url))).toBe(true);
    expect(heavy(modules).length).toBeGreaterThan(0);
  });
});

/** A read of Job `x` in `ml` through the built package (ESM or CommonJS): prints the name it got back. */
function readThroughBuild(format: 'esm' | 'cjs', kubeconfigPath: string) {
  const read = `
    const { jobClient } = createClientNodeAdapters({ kubeconfigPath: ${JSON.stringify(kubeconfigPath)}, env: {}, retry: { maxAttempts: 1 } });
    const job = await jobClient.getJob('ml', 'x').catch((e) => ({ metadata: { name: e.code + ' ' + e.message } }));
    console.log(job?.metadata?.name);
    process.exit(0);`;
  return format === 'esm'
    ? script(`const { createClientNodeAdapters } = await import(${JSON.stringify(dist('index.js'))});${read}`)
    : traced([
        '--eval',
        `const { createClientNodeAdapters } = require(${JSON.stringify(join(OUT, 'index.cjs'))}); (async () => {${read}})();`,
      ]);
}

/**
 * The bundled TLS and proxy code run from the build (tsup turns client-node's CommonJS into both
 * formats): an HTTPS server that wants a client certificate signed by the fixture CA, reached directly
 * and through an HTTP CONNECT proxy (`proxy-url`), answers with the certificate's CN.
 */
describe.each(['esm', 'cjs'] as const)('the built package (%s) over TLS', (format) => {
  closeServersAfterEach();
  const whoAmI = () =>
    startServer(
      (req, res) =>
        json(res, 200, {
          metadata: { name: (req.socket as TLSSocket).getPeerCertificate().subject?.CN ?? 'anonymous' },
        }),
      { tls: true, requestCert: true },
    );
  const user = {
    'client-certificate-data': readFileSync(tlsFile('client.crt')).toString('base64'),
    'client-key-data': readFileSync(tlsFile('client.key')).toString('base64'),
  };
  const cluster = { 'certificate-authority': tlsFile('ca.crt'), 'tls-server-name': 'localhost' };

  it('presents the client certificate and verifies the server by the CA', async () => {
    const server = await whoAmI();
    const { stdout } = await readThroughBuild(
      format,
      writeKubeconfig(kubeconfigOf(server.url, user, cluster)),
    );
    expect(stdout.trim()).toBe('test-user');
  });

  it('refuses a server its CA did not sign, naming the certificate problem', async () => {
    const server = await whoAmI();
    const { stdout } = await readThroughBuild(format, writeKubeconfig(kubeconfigOf(server.url, user, {})));
    expect(stdout.trim()).toMatch(/certificate/i);
    expect(stdout).not.toContain('test-user');
  });

  it('goes through the proxy of proxy-url with the client certificate', async () => {
    const [server, proxy] = await Promise.all([whoAmI(), startProxy()]);
    const kubeconfig = kubeconfigOf(server.url.replace('127.0.0.1', 'api.test'), user, {
      ...cluster,
      'proxy-url': proxy.url,
    });
    const { stdout } = await readThroughBuild(format, writeKubeconfig(kubeconfig));
    expect(stdout.trim()).toBe('test-user');
    expect(proxy.seen).toEqual([expect.stringMatching(/^CONNECT api\.test:\d+$/)]);
  });
});
