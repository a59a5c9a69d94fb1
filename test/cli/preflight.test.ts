// `k8s-executor preflight` against a small fake API server over HTTP: the real client-node adapter,
// the table and JSON output, and the exit codes.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { beforeEach, describe, expect, it } from 'vitest';
import { kubeconfigOf, writeKubeconfig } from '../adapters/client-node/helpers.js';
import { closeServersAfterEach, json, startServer } from '../adapters/client-node/http.js';
import { writeProject } from '../helpers/project.js';
import { cli } from './run-cli.js';

closeServersAfterEach();

/** What the fake cluster holds: namespace `ml`, service account `default`, one node; tests change it. */
interface FakeState {
  serviceAccounts: string[];
  deniedVerbs: string[];
  secretsForbidden: boolean;
  requests: string[];
}

let state: FakeState;
beforeEach(() => {
  state = { serviceAccounts: ['default'], deniedVerbs: [], secretsForbidden: false, requests: [] };
});

const notFound = (res: ServerResponse) =>
  json(res, 404, { kind: 'Status', code: 404, reason: 'NotFound', message: 'not found' });

function handler(req: IncomingMessage, res: ServerResponse): void {
  let body = '';
  req.on('data', (chunk) => {
    body += String(chunk);
  });
  req.on('end', () => {
    const url = new URL(req.url ?? '/', 'http://x');
    state.requests.push(`${req.method} ${url.pathname}${url.search}`);
    const path = url.pathname;
    if (req.method === 'POST' && path === '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews') {
      const { verb, resource, subresource } = JSON.parse(body).spec.resourceAttributes;
      const name = subresource ? `${resource}/${subresource}` : resource;
      return json(res, 201, { status: { allowed: !state.deniedVerbs.includes(`${verb} ${name}`) } });
    }
    if (req.method === 'POST' && path === '/apis/batch/v1/namespaces/ml/jobs')
      return json(res, 201, JSON.parse(body));
    if (path === '/api/v1/namespaces/ml') return json(res, 200, { metadata: { name: 'ml' } });
    const sa = /^\/api\/v1\/namespaces\/ml\/serviceaccounts\/(.+)$/.exec(path);
    if (sa)
      return state.serviceAccounts.includes(sa[1]!)
        ? json(res, 200, { metadata: { name: sa[1] } })
        : notFound(res);
    if (path.startsWith('/api/v1/namespaces/ml/secrets/')) {
      if (!state.secretsForbidden) return notFound(res);
      return json(res, 403, {
        kind: 'Status',
        code: 403,
        reason: 'Forbidden',
        message: 'secrets is forbidden: User "u" cannot get resource "secrets"',
      });
    }
    if (path === '/api/v1/namespaces/ml/resourcequotas' || path === '/api/v1/namespaces/ml/limitranges')
      return json(res, 200, { items: [] });
    if (path === '/api/v1/nodes')
      return json(res, 200, {
        items: [
          {
            metadata: { name: 'node-1', labels: {} },
            status: { allocatable: { cpu: '4', memory: '8Gi', pods: '110' } },
          },
        ],
      });
    return notFound(res);
  });
}

/** A project whose block `load` runs as a Job in `ml`; `extra` goes into its executor config. */
function project(extra: Record<string, unknown> = {}): string {
  return writeProject({
    'metadata.yaml': `k8s_executor_config: ${JSON.stringify({ namespace: 'ml', image: 'x/y:1', command: 'mage', ...extra })}\n`,
    'pipelines/etl/metadata.yaml': 'blocks:\n- uuid: load\n  executor_type: k8s\n- uuid: notify\n',
  });
}

async function preflight(args: string[]) {
  const { url } = await startServer(handler);
  const kubeconfig = writeKubeconfig(kubeconfigOf(url, { token: 't' }));
  return cli(['preflight', '--kubeconfig', kubeconfig, ...args], {});
}

describe('k8s-executor preflight', () => {
  it('prints a table per Job and exits 0 when no block would fail, creating nothing', async () => {
    const { code, stdout, stderr } = await preflight(['--project', project(), '--pipeline', 'etl']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const lines = stdout.split('\n');
    expect(lines[0]).toBe('load: Job mage-data-prep-block-preflight-load in namespace ml: ok');
    expect(lines[1]).toMatch(/^CHECK +STATUS +FINDING$/);
    expect(stdout).toMatch(/^dry-run +ok +the API server accepts the Job/m);
    expect(stdout).toMatch(/^node-fit +ok +1 of 1 node can run the pod \(node-1\)\.$/m);
    expect(stdout).toMatch(
      /Preflight of pipeline etl \(dag\): 1 Job checked, none would fail\. See docs\/preflight.md\.\n$/,
    );
    // Reads, access reviews and one dry run only: nothing is created.
    const writes = state.requests.filter((r) => !r.startsWith('GET '));
    expect(writes.every((r) => r.includes('selfsubjectaccessreviews') || r.includes('dryRun=All'))).toBe(
      true,
    );
    expect(writes.filter((r) => r.includes('/jobs'))).toEqual([
      'POST /apis/batch/v1/namespaces/ml/jobs?dryRun=All&fieldValidation=Strict',
    ]);
  });

  it('exits 1 with the sentence of each failure; -o json prints the report', async () => {
    state.serviceAccounts = [];
    state.deniedVerbs = ['delete jobs'];
    const dir = project({ service_account_name: 'runner', secrets: ['db-creds'] });
    const text = await preflight(['--project', dir, '--pipeline', 'etl']);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain(
      'load: Job mage-data-prep-block-preflight-load in namespace ml: WOULD FAIL',
    );
    expect(text.stdout).toMatch(
      /service-account +fail +ServiceAccount "runner" in namespace "ml" does not exist/,
    );
    expect(text.stdout).toMatch(/secret +fail +Secret "db-creds" in namespace "ml" does not exist/);
    expect(text.stdout).toMatch(/rbac +warn +the current identity may not delete jobs/);
    expect(text.stdout).toMatch(/1 Job checked, 1 would fail; 1 warning\./);
    const asJson = await preflight(['--project', dir, '--pipeline', 'etl', '-o', 'json']);
    expect(asJson.code).toBe(1);
    const report = JSON.parse(asJson.stdout);
    expect(report).toMatchObject({
      pipelineUuid: 'etl',
      mode: 'dag',
      ok: false,
      blocks: [{ block: 'load', status: 'fail' }],
    });
    expect(
      report.blocks[0].findings.find((f: { check: string }) => f.check === 'service-account'),
    ).toMatchObject({
      status: 'fail',
      fix: expect.stringMatching(/kubectl create serviceaccount runner -n ml/),
    });
  });

  it('checks the Jobs of a run with the same -n, --set and --set-block flags', async () => {
    const moved = await preflight(['--project', project(), '--pipeline', 'etl', '-n', 'etl']);
    expect(moved.code).toBe(1);
    expect(moved.stdout).toContain(
      'load: Job mage-data-prep-block-preflight-load in namespace etl: WOULD FAIL',
    );
    const perBlock = await preflight([
      '--project',
      project(),
      '--pipeline',
      'etl',
      '--set-block',
      'load.service_account_name=runner',
    ]);
    expect(perBlock.code).toBe(1);
    expect(perBlock.stdout).toMatch(/runner/);
    const unknown = await preflight([
      '--project',
      project(),
      '--pipeline',
      'etl',
      '--set-block',
      'lod.cpu=1',
    ]);
    expect(unknown).toMatchObject({ code: 2 });
    expect(unknown.stderr).toContain('no block "lod" in the pipeline');
  });

  it('with no cluster configured, says how to give one and does not advise --local', async () => {
    const home = writeProject({ 'empty.txt': '' });
    const { code, stderr } = await cli(['preflight', '--project', project(), '--pipeline', 'etl'], {
      HOME: home,
    });
    expect(code).toBe(1);
    expect(stderr).toMatch(/^error \[NO_CLUSTER\]: No Kubernetes cluster configured/);
    expect(stderr).toContain('--kubeconfig FILE and --context NAME choose the cluster');
    expect(stderr).not.toContain('--local');
    expect(stderr).toContain('preflight checks a real cluster');
  });

  it('says what it could not check instead of failing', async () => {
    state.secretsForbidden = true;
    const { code, stdout } = await preflight([
      '--project',
      project({ secrets: ['db-creds'] }),
      '--pipeline',
      'etl',
    ]);
    expect(code).toBe(0);
    expect(stdout).toMatch(
      /secret +not-checked +Secret "db-creds" in namespace "ml": not checked: needs get on secrets in namespace "ml"\./,
    );
    expect(stdout).toMatch(/none would fail; 1 check not done\./);
  });

  it('is a usage error (exit 2) without --pipeline, with a --block in single-job mode, or another -o', async () => {
    const dir = project();
    expect(await preflight(['--project', dir])).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/"preflight" needs --pipeline UUID/),
    });
    expect(
      await preflight(['--project', dir, '--pipeline', 'etl', '--block', 'load', '--mode', 'single-job']),
    ).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/\[CONFIG_INVALID\].*runs as one Job/s),
    });
    expect(await preflight(['--project', dir, '--pipeline', 'etl', '--block', 'nope'])).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/no block "nope"/),
    });
    expect((await preflight(['--project', dir, '--pipeline', 'etl', '-o', 'yaml'])).code).toBe(2);
    expect(state.requests).toEqual([]);
  });

  it('has its own help', async () => {
    const { code, stdout } = await cli(['preflight', '--help']);
    expect(code).toBe(0);
    expect(stdout).toMatch(
      /^k8s-executor preflight — check every Job of a pipeline against the live cluster/,
    );
    expect(stdout).toContain('-o, --output table|json');
    expect(stdout).toContain('--context NAME');
    expect(stdout).not.toContain('--local');
  });
});
