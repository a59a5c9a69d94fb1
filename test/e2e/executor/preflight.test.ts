// `preflight` against the real control plane: a good project passes every check; a bad one is caught
// block by block (a missing ServiceAccount, a missing Secret, a node selector no node matches, an
// untolerated taint, a quota that is too small), each with its sentence; as a ServiceAccount without one
// verb of docs/rbac.md's Role, the missing verb is named and what it may not read is "not checked"; with
// the optional read permissions of docs/preflight.md it checks everything. Nothing is ever created.
// Needs a cluster (`bash test/e2e/run.sh`); adds one tainted Node for the test and removes it after.
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import { preflight } from '../../../src/preflight/preflight.js';
import type { BlockPreflight, CheckName, Finding, PreflightReport } from '../../../src/preflight/types.js';
import { StaticConfigSource } from '../../../src/testing/static-config-source.js';
import { adminKubeConfig, clusterAvailable, eventually, useTestNamespace } from './support/cluster.js';
import { E2E_IMAGE } from './support/executors.js';
import { inNamespace, type RbacManifest, readRbacDoc } from './support/rbac-doc.js';

const SUFFIX = randomBytes(3).toString('hex');
/** The label of the tainted node this test adds (no other node has it). */
const POOL = `preflight-${SUFFIX}`;
const TAINTED_NODE = `preflight-tainted-${SUFFIX}`;

/** The manifest of docs/preflight.md ("Whose permissions"). */
async function readPreflightDoc(): Promise<RbacManifest[]> {
  const doc = await readFile('docs/preflight.md', 'utf8');
  const section = doc.slice(doc.indexOf('## Whose permissions'));
  const yaml = /```yaml\n([\s\S]*?)```/.exec(section)?.[1];
  if (!yaml) throw new Error('docs/preflight.md has no ```yaml block under "## Whose permissions"');
  return parseAllDocuments(yaml).map((d) => d.toJS() as RbacManifest);
}

describe.skipIf(!clusterAvailable())('preflight against the real control plane', () => {
  const ns = useTestNamespace('e2e-preflight');
  const admin = adminKubeConfig();
  const rbac = admin.makeApiClient(k8s.RbacAuthorizationV1Api);
  let kubeconfigDir: string;
  let saKubeconfig: string;
  let role: RbacManifest;
  const clusterScoped: { kind: 'ClusterRole' | 'ClusterRoleBinding'; name: string }[] = [];

  /** The project: `good` passes; each block of `bad` has one problem. */
  const files = () => {
    const block = (uuid: string, config: Record<string, unknown> = {}) => ({
      uuid,
      executor_type: 'k8s',
      executor_config: config,
    });
    return {
      'metadata.yaml': stringify({
        k8s_executor_config: {
          namespace: ns.name,
          container: { image: E2E_IMAGE, command: ['true'] },
          resource_requests: { memory: '64Mi' },
          resource_limits: { memory: '128Mi' },
        },
      }),
      'pipelines/good/metadata.yaml': stringify({
        blocks: [
          block('load', {
            container: {
              env: [{ name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'app-secret', key: 'token' } } }],
              envFrom: [{ configMapRef: { name: 'app-config' } }],
            },
          }),
        ],
      }),
      'pipelines/bad/metadata.yaml': stringify({
        blocks: [
          block('no-sa', { service_account_name: 'missing-runner' }),
          block('no-secret', { secrets: ['missing-secret'] }),
          block('no-node', { node_selector: { disktype: 'nvme-nowhere' } }),
          block('tainted', { node_selector: { 'preflight-pool': POOL } }),
          block('big', { resource_limits: { memory: '2Gi' } }),
        ],
      }),
    };
  };

  const check = (pipelineUuid: string, kubeconfigPath?: string): Promise<PreflightReport> =>
    preflight({
      projectDir: '.',
      pipelineUuid,
      configSource: new StaticConfigSource(files()),
      ...(kubeconfigPath ? { kubeconfigPath } : {}),
    });
  const findingsOf = (report: PreflightReport, block: string, check: CheckName): Finding[] =>
    report.blocks.find((b) => b.block === block)?.findings.filter((f) => f.check === check) ?? [];
  const only = (report: PreflightReport, block: string, check: CheckName): Finding => {
    const found = findingsOf(report, block, check);
    expect(found, `${block} ${check}`).toHaveLength(1);
    return found[0]!;
  };
  /** Every finding that is not `ok`, as `check status`, per block. */
  const notOk = (block: BlockPreflight | undefined) =>
    (block?.findings ?? []).filter((f) => f.status !== 'ok').map((f) => `${f.check} ${f.status}`);

  beforeAll(async () => {
    const core = ns.core;
    await core.createNamespacedSecret({
      namespace: ns.name,
      body: { metadata: { name: 'app-secret' }, stringData: { token: 'e2e-not-a-real-token' } },
    });
    await core.createNamespacedConfigMap({
      namespace: ns.name,
      body: { metadata: { name: 'app-config' }, data: { MODE: 'e2e' } },
    });
    await core.createNamespacedResourceQuota({
      namespace: ns.name,
      body: {
        metadata: { name: 'small' },
        spec: { hard: { 'limits.memory': '1Gi', 'count/jobs.batch': '20' } },
      },
    });
    await core.createNamespacedLimitRange({
      namespace: ns.name,
      body: {
        metadata: { name: 'bounds' },
        spec: {
          limits: [
            {
              type: 'Container',
              max: { memory: '4Gi' },
              _default: { cpu: '200m' },
              defaultRequest: { cpu: '100m' },
            },
          ],
        },
      },
    });
    // A node only the `tainted` block selects, with a taint it does not tolerate. Tainted, so that no
    // other test's pod lands on it while it exists.
    await core.createNode({
      body: {
        metadata: {
          name: TAINTED_NODE,
          labels: { 'kubernetes.io/hostname': TAINTED_NODE, 'preflight-pool': POOL, type: 'kwok' },
          annotations: { 'kwok.x-k8s.io/node': 'fake' },
        },
        spec: { taints: [{ key: 'dedicated', value: 'data-jobs', effect: 'NoSchedule' }] },
      },
    });

    // A ServiceAccount with docs/rbac.md's Role, acting through a TokenRequest token.
    const { manifests } = await readRbacDoc();
    const [sa, docRole, binding] = ['ServiceAccount', 'Role', 'RoleBinding'].map((kind) =>
      inNamespace(manifests.find((m) => m.kind === kind)!, ns.name),
    ) as [RbacManifest, RbacManifest, RbacManifest];
    role = docRole;
    await core.createNamespacedServiceAccount({ namespace: ns.name, body: sa });
    await rbac.createNamespacedRole({ namespace: ns.name, body: { ...role, rules: role.rules ?? [] } });
    await rbac.createNamespacedRoleBinding({
      namespace: ns.name,
      body: { ...binding, roleRef: binding.roleRef! },
    });
    const token = await core.createNamespacedServiceAccountToken({
      name: sa.metadata.name,
      namespace: ns.name,
      body: { spec: { expirationSeconds: 3600, audiences: [] } },
    });
    const cluster = admin.getCurrentCluster();
    if (!cluster?.caFile)
      throw new Error('the admin kubeconfig has no cluster with a certificate-authority file');
    kubeconfigDir = await mkdtemp(join(tmpdir(), 'k8s-executor-e2e-preflight-'));
    saKubeconfig = join(kubeconfigDir, 'kubeconfig');
    // A token is a secret: written to a private file, never printed.
    await writeFile(
      saKubeconfig,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [
          { name: 'e2e', cluster: { server: cluster.server, 'certificate-authority': cluster.caFile } },
        ],
        users: [{ name: sa.metadata.name, user: { token: token.status?.token } }],
        contexts: [{ name: 'sa', context: { cluster: 'e2e', user: sa.metadata.name, namespace: ns.name } }],
        'current-context': 'sa',
      }),
      { mode: 0o600 },
    );
    await chmod(saKubeconfig, 0o600);
  });

  afterAll(async () => {
    await ns.core.deleteNode({ name: TAINTED_NODE }).catch(() => undefined);
    for (const { kind, name } of clusterScoped) {
      if (kind === 'ClusterRoleBinding') await rbac.deleteClusterRoleBinding({ name }).catch(() => undefined);
      else await rbac.deleteClusterRole({ name }).catch(() => undefined);
    }
    if (kubeconfigDir) await rm(kubeconfigDir, { recursive: true, force: true });
  });

  /** Waits until the ServiceAccount may (or may not) do `verb` on `resource`, as its SSAR says. */
  const waitForAccess = async (verb: string, resource: string, allowed: boolean, namespace?: string) => {
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(saKubeconfig);
    const auth = kc.makeApiClient(k8s.AuthorizationV1Api);
    await eventually(
      `the ServiceAccount ${allowed ? 'to' : 'not to'} ${verb} ${resource}`,
      async () =>
        (
          await auth.createSelfSubjectAccessReview({
            body: {
              spec: {
                resourceAttributes: { verb, resource, group: '', ...(namespace ? { namespace } : {}) },
              },
            },
          })
        ).status?.allowed === true,
      (may) => may === allowed,
    );
  };

  it('passes a good project: every check ok, exit 0, and nothing created', async () => {
    const report = await check('good');
    expect(report.ok).toBe(true);
    const [load] = report.blocks;
    expect(load).toMatchObject({
      block: 'load',
      jobName: 'mage-data-prep-block-preflight-load',
      namespace: ns.name,
      status: 'ok',
    });
    expect(notOk(load)).toEqual([]);
    expect(only(report, 'load', 'secret').message).toBe(
      `Secret "app-secret" in namespace "${ns.name}" exists with key "token".`,
    );
    expect(only(report, 'load', 'quota').message).toMatch(/^fits ResourceQuota "small"/);
    expect(only(report, 'load', 'node-fit').message).toMatch(/can run the pod \(.*kwok-node-0/);
    expect((await ns.batch.listNamespacedJob({ namespace: ns.name })).items).toEqual([]);
  });

  it('finds each problem of a bad project, each with its sentence', async () => {
    const report = await check('bad');
    expect(report.ok).toBe(false);
    expect(Object.fromEntries(report.blocks.map((b) => [b.block, notOk(b)]))).toEqual({
      'no-sa': ['service-account fail'],
      'no-secret': ['secret fail'],
      'no-node': ['node-fit warn'],
      tainted: ['node-fit warn'],
      big: ['quota fail'],
    });
    expect(only(report, 'no-sa', 'service-account').message).toBe(
      `ServiceAccount "missing-runner" in namespace "${ns.name}" does not exist: the Job would be created but never get a pod (the Job controller's "error looking up service account"), and the block fails with POD_CREATE_FAILED.`,
    );
    expect(only(report, 'no-secret', 'secret').message).toBe(
      `Secret "missing-secret" in namespace "${ns.name}" does not exist (used by envFrom of container "mage-job-container"): the container would not start (CreateContainerConfigError) and the block fails with CONTAINER_CONFIG_ERROR.`,
    );
    const noNode = only(report, 'no-node', 'node-fit').message;
    expect(noNode).toMatch(/^no node can run the pod today: /);
    expect(noNode).toMatch(/\d+ nodes do not match the node selector disktype=nvme-nowhere/);
    const tainted = only(report, 'tainted', 'node-fit').message;
    expect(tainted).toContain(
      '1 node has taint dedicated=data-jobs:NoSchedule that the pod does not tolerate',
    );
    expect(tainted).toMatch(
      new RegExp(`\\d+ nodes? do(es)? not match the node selector preflight-pool=${POOL}`),
    );
    expect(only(report, 'big', 'quota').message).toBe(
      'ResourceQuota "small" is too small for this block: limits.memory needs 2Gi, the quota allows 1Gi in all. The Job controller could never create the pod (exceeded quota) and the block fails with POD_CREATE_FAILED.',
    );
    // The API server accepted every Job of the dry runs (strict field validation included).
    for (const block of report.blocks) expect(only(report, block.block, 'dry-run').status).toBe('ok');
    expect((await ns.batch.listNamespacedJob({ namespace: ns.name })).items).toEqual([]);
  });

  it('as a ServiceAccount without "list" on pods: names the verb; what it may not read is not checked', async () => {
    const rules = (role.rules ?? []).map((rule) =>
      rule.resources?.includes('pods') ? { ...rule, verbs: rule.verbs.filter((v) => v !== 'list') } : rule,
    );
    await rbac.replaceNamespacedRole({
      name: role.metadata.name,
      namespace: ns.name,
      body: { ...role, rules },
    });
    await waitForAccess('list', 'pods', false, ns.name);
    try {
      const report = await check('good', saKubeconfig);
      expect(report.ok).toBe(false);
      expect(findingsOf(report, 'load', 'rbac')).toEqual([
        {
          check: 'rbac',
          status: 'fail',
          message: `the current identity may not list pods in namespace "${ns.name}": the shared pod watch cannot see the namespace: the block fails with API_FORBIDDEN and its Job is deleted.`,
          fix: `grant it with a Role rule {apiGroups: [""], resources: ["pods"], verbs: ["list"]} in namespace "${ns.name}" (docs/rbac.md).`,
        },
      ]);
      expect(only(report, 'load', 'dry-run').status).toBe('ok');
      expect(only(report, 'load', 'namespace').message).toBe(
        `namespace "${ns.name}": not checked: needs get on namespaces (cluster-wide).`,
      );
      expect(only(report, 'load', 'service-account').message).toBe(
        `ServiceAccount "default" in namespace "${ns.name}": not checked: needs get on serviceaccounts in namespace "${ns.name}".`,
      );
      expect(only(report, 'load', 'secret').message).toBe(
        `Secret "app-secret" in namespace "${ns.name}": not checked: needs get on secrets in namespace "${ns.name}".`,
      );
      expect(only(report, 'load', 'quota').message).toBe(
        `the ResourceQuotas of namespace "${ns.name}": not checked: needs list on resourcequotas in namespace "${ns.name}".`,
      );
      expect(only(report, 'load', 'node-fit').message).toBe(
        'the nodes: not checked: needs list on nodes (cluster-wide).',
      );
    } finally {
      await rbac.replaceNamespacedRole({
        name: role.metadata.name,
        namespace: ns.name,
        body: { ...role, rules: role.rules ?? [] },
      });
      await waitForAccess('list', 'pods', true, ns.name);
    }
  });

  it("with docs/preflight.md's optional read permissions, the ServiceAccount checks everything", async () => {
    for (const manifest of await readPreflightDoc()) {
      const local = inNamespace(manifest, ns.name);
      if (manifest.kind === 'Role')
        await rbac.createNamespacedRole({ namespace: ns.name, body: { ...local, rules: local.rules ?? [] } });
      else if (manifest.kind === 'RoleBinding')
        await rbac.createNamespacedRoleBinding({
          namespace: ns.name,
          body: { ...local, roleRef: local.roleRef! },
        });
      else {
        // Cluster-wide objects get this test's own names (and are deleted after it).
        const name = `${manifest.metadata.name}-${ns.name}`;
        clusterScoped.push({ kind: manifest.kind as 'ClusterRole' | 'ClusterRoleBinding', name });
        const metadata = { name };
        if (manifest.kind === 'ClusterRole')
          await rbac.createClusterRole({ body: { ...manifest, metadata, rules: manifest.rules ?? [] } });
        else
          await rbac.createClusterRoleBinding({
            body: {
              ...local,
              metadata,
              roleRef: { ...manifest.roleRef!, name: `${manifest.roleRef!.name}-${ns.name}` },
            },
          });
      }
    }
    await waitForAccess('list', 'nodes', true);
    await waitForAccess('get', 'secrets', true, ns.name);
    const report = await check('good', saKubeconfig);
    expect(report.ok).toBe(true);
    expect(notOk(report.blocks[0])).toEqual([]);
  });
});
