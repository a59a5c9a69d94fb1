// The minimal Role of docs/rbac.md, applied from the doc itself, is enough to run a block; removing a
// verb gives the documented 403 (API_FORBIDDEN naming the verb and resource). The executor acts as a
// ServiceAccount through a TokenRequest token in a temporary kubeconfig. Needs `bash test/e2e/run.sh`.
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ApiError } from '../../../src/errors/api-error.js';
import { isK8sExecutorError } from '../../../src/errors/base.js';
import type { BlockRun, LogLine } from '../../../src/executor/types.js';
import type { HubEvent } from '../../../src/monitor/watch-hub.js';
import { knownLogLines } from '../cluster/fates.js';
import { adminKubeConfig, eventually, fatesAvailable, useTestNamespace } from './support/cluster.js';
import { E2E_PIPELINE, e2eExecutors, e2eProject } from './support/executors.js';
import { inNamespace, type RbacManifest as Manifest, readRbacDoc } from './support/rbac-doc.js';

/** The namespace the doc's manifest and messages use; replaced by the test's. */
const DOC_NAMESPACE = 'ml';
const JOB_VERBS = ['create', 'get', 'list', 'watch', 'delete'] as const;
type JobVerb = (typeof JOB_VERBS)[number];

describe.skipIf(!fatesAvailable())('RBAC: the documented minimal Role, as a ServiceAccount', () => {
  const ns = useTestNamespace('e2e-rbac');
  const admin = adminKubeConfig();
  const rbac = admin.makeApiClient(k8s.RbacAuthorizationV1Api);
  let manifests: Manifest[];
  let watchForbiddenMessage: string;
  let role: Manifest;
  let serviceAccount: string;
  let kubeconfigDir: string;
  let kubeconfigPath: string;
  let asServiceAccount: k8s.AuthorizationV1Api;

  beforeAll(async () => {
    ({ manifests, watchForbiddenMessage } = await readRbacDoc());
    const [sa, docRole, binding] = ['ServiceAccount', 'Role', 'RoleBinding'].map((kind) => {
      const found = manifests.find((m) => m.kind === kind);
      if (!found) throw new Error(`docs/rbac.md's manifest has no ${kind}`);
      return inNamespace(found, ns.name);
    }) as [Manifest, Manifest, Manifest];
    role = docRole;
    serviceAccount = sa.metadata.name;
    await ns.core.createNamespacedServiceAccount({ namespace: ns.name, body: sa });
    await rbac.createNamespacedRole({ namespace: ns.name, body: { ...role, rules: role.rules ?? [] } });
    await rbac.createNamespacedRoleBinding({
      namespace: ns.name,
      body: { ...binding, roleRef: binding.roleRef as k8s.V1RoleRef },
    });

    const token = await ns.core.createNamespacedServiceAccountToken({
      name: serviceAccount,
      namespace: ns.name,
      body: { spec: { expirationSeconds: 3600, audiences: [] } },
    });
    const cluster = admin.getCurrentCluster();
    if (!cluster?.caFile)
      throw new Error('the admin kubeconfig has no cluster with a certificate-authority file');
    kubeconfigDir = await mkdtemp(join(tmpdir(), 'k8s-executor-e2e-rbac-'));
    kubeconfigPath = join(kubeconfigDir, 'kubeconfig');
    // A token is a secret: written to a private file, never printed.
    await writeFile(
      kubeconfigPath,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [
          { name: 'e2e', cluster: { server: cluster.server, 'certificate-authority': cluster.caFile } },
        ],
        users: [{ name: serviceAccount, user: { token: token.status?.token } }],
        contexts: [{ name: 'sa', context: { cluster: 'e2e', user: serviceAccount, namespace: ns.name } }],
        'current-context': 'sa',
      }),
      { mode: 0o600 },
    );
    await chmod(kubeconfigPath, 0o600);
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(kubeconfigPath);
    asServiceAccount = kc.makeApiClient(k8s.AuthorizationV1Api);
    await waitForJobVerbs(JOB_VERBS);
  });

  afterAll(async () => {
    if (kubeconfigDir) await rm(kubeconfigDir, { recursive: true, force: true });
  });

  /** Whether the ServiceAccount may `verb` Jobs in the test namespace, as the API server sees it now. */
  const mayOnJobs = async (verb: JobVerb) =>
    (
      await asServiceAccount.createSelfSubjectAccessReview({
        body: {
          spec: { resourceAttributes: { namespace: ns.name, verb, group: 'batch', resource: 'jobs' } },
        },
      })
    ).status?.allowed === true;

  /** Polls until exactly `verbs` are allowed on Jobs (RBAC changes reach the authorizer through a cache). */
  const waitForJobVerbs = (verbs: readonly JobVerb[]) =>
    eventually(
      `the ServiceAccount to have exactly [${verbs.join(', ')}] on jobs`,
      () => Promise.all(JOB_VERBS.map(mayOnJobs)),
      (allowed) => allowed.every((yes, i) => yes === verbs.includes(JOB_VERBS[i]!)),
    );

  /** Replaces the Role by the doc's, without `missing` on Jobs. */
  const grantAllBut = async (missing: JobVerb | undefined) => {
    const rules = (role.rules ?? []).map((rule) =>
      rule.resources?.includes('jobs') ? { ...rule, verbs: rule.verbs.filter((v) => v !== missing) } : rule,
    );
    await rbac.replaceNamespacedRole({
      name: role.metadata.name,
      namespace: ns.name,
      body: { ...role, rules },
    });
    await waitForJobVerbs(JOB_VERBS.filter((v) => v !== missing));
  };

  const runOf = (blockRunId: string): BlockRun => ({
    pipelineUuid: E2E_PIPELINE,
    blockUuid: 'step',
    pipelineRunId: 1,
    blockRunId,
  });
  const executorsAsServiceAccount = (onHubEvent?: (event: HubEvent) => void) =>
    e2eExecutors({
      files: e2eProject(ns.name, [{ uuid: 'step', fate: { fate: 'succeed' } }]),
      kubeconfigPath,
      // The polling fallback (used when `watch` is forbidden) at a test-friendly period.
      pollIntervalMs: 1000,
      ...(onHubEvent ? { onHubEvent } : {}),
    });

  it("the doc's Role is enough: a block runs, streams its log and is cleaned up", async () => {
    await grantAllBut(undefined);
    const executors = executorsAsServiceAccount();
    const lines: LogLine[] = [];
    try {
      const result = await executors.blocks.execute(runOf('all-verbs'), {
        onLog: (line) => lines.push(line),
      });

      expect(result).toMatchObject({ status: 'succeeded', adopted: false });
      expect(result.cleanupError).toBeUndefined();
      expect(lines.map((l) => l.line)).toEqual(knownLogLines().map((l) => l.text));
      await eventually(
        'the Job to be deleted',
        () => ns.readJob(result.jobName),
        (job) => job === undefined,
      );
    } finally {
      executors.close();
    }
  });

  it('without "create" on jobs: API_FORBIDDEN naming the verb, the resource and the rule to add', async () => {
    await grantAllBut('create');
    const executors = executorsAsServiceAccount();
    try {
      const error = await executors.blocks.execute(runOf('no-create')).then(
        () => undefined,
        (e: unknown) => e,
      );

      expect(error).toBeInstanceOf(ApiError);
      expect(error).toMatchObject({
        code: 'API_FORBIDDEN',
        status: 403,
        operation: { verb: 'create', resource: 'jobs', group: 'batch', namespace: ns.name },
      });
      const user = `system:serviceaccount:${ns.name}:${serviceAccount}`;
      expect((error as ApiError).message).toBe(
        `Forbidden (403): the executor's identity cannot "create" "jobs" (group "batch") "mage-data-prep-block-no-create" ` +
          `in namespace "${ns.name}": grant it with a Role rule {apiGroups: ["batch"], resources: ["jobs"], verbs: ["create"]} ` +
          'bound to its service account or user; see docs/rbac.md. The server said: jobs.batch is forbidden: ' +
          `User "${user}" cannot create resource "jobs" in API group "batch" in the namespace "${ns.name}"`,
      );
      expect(await ns.readJob('mage-data-prep-block-no-create')).toBeUndefined();
    } finally {
      executors.close();
    }
  });

  it('without "watch" on jobs: the documented 403 is reported and polling still finishes the block', async () => {
    await grantAllBut('watch');
    const hubErrors: unknown[] = [];
    const executors = executorsAsServiceAccount((event) => {
      if (event.type === 'error') hubErrors.push(event.error);
    });
    try {
      const result = await executors.blocks.execute(runOf('no-watch'));

      // docs/runtime.md: "when `watch` is forbidden, fall back to listing ... while the watch keeps being retried".
      expect(result).toMatchObject({ status: 'succeeded' });
      const forbidden = hubErrors.filter((e) => isK8sExecutorError(e) && e.code === 'API_FORBIDDEN');
      expect(forbidden.length).toBeGreaterThan(0);
      // Exactly the example of docs/rbac.md, in this test's namespace and with its ServiceAccount.
      expect((forbidden[0] as ApiError).message).toBe(
        watchForbiddenMessage
          .replaceAll(`"${DOC_NAMESPACE}"`, `"${ns.name}"`)
          .replaceAll(`system:serviceaccount:${DOC_NAMESPACE}:`, `system:serviceaccount:${ns.name}:`),
      );
    } finally {
      executors.close();
    }
  });

  // Without `list` on jobs: the API server's streaming list (Kubernetes >= 1.32) syncs the shared watch with
  // `watch` alone, so a block still runs to its end; a pipeline run, whose resume needs to list the run's
  // Jobs by label, fails at once with the classified 403 (after trying twice more) and creates nothing.
  it('without "list" on jobs: a block still runs (streaming list); a pipeline run fails at once, API_FORBIDDEN', async () => {
    await grantAllBut('list');
    const executors = executorsAsServiceAccount();
    const bound = AbortSignal.timeout(60_000);
    try {
      const block = await executors.blocks.execute(runOf('no-list'), { signal: bound });
      expect(block.status).toBe('succeeded');

      const outcome = await executors.pipelines
        .run({ pipelineUuid: E2E_PIPELINE, pipelineRunId: 'no-list' }, { signal: bound })
        .then(
          (result) => result,
          (e: unknown) => e,
        );
      expect(outcome).toMatchObject({
        code: 'API_FORBIDDEN',
        operation: { verb: 'list', resource: 'jobs', group: 'batch', namespace: ns.name },
      });
      expect((outcome as ApiError).message).toContain('cannot "list" "jobs" (group "batch")');
      const created = await ns.batch.listNamespacedJob({ namespace: ns.name });
      expect(created.items.map((j) => j.metadata?.name)).not.toContain('mage-data-prep-block-no-list-step');
    } finally {
      executors.close();
      await ns.batch
        .deleteNamespacedJob({
          name: 'mage-data-prep-block-no-list',
          namespace: ns.name,
          propagationPolicy: 'Background',
        })
        .catch(() => undefined);
    }
  });

  it('without "delete" on jobs: the outcome stands and cleanupError names the missing verb', async () => {
    await grantAllBut('delete');
    const executors = executorsAsServiceAccount();
    try {
      const result = await executors.blocks.execute(runOf('no-delete'));

      expect(result).toMatchObject({ status: 'succeeded' });
      expect(result.cleanupError).toContain(
        `Forbidden (403): the executor's identity cannot "delete" "jobs" (group "batch")`,
      );
      expect(result.cleanupError).toContain('verbs: ["delete"]');
      // Left behind, as the message says.
      expect(await ns.readJob(result.jobName)).toBeDefined();
      await ns.batch.deleteNamespacedJob({
        name: result.jobName,
        namespace: ns.name,
        propagationPolicy: 'Background',
      });
    } finally {
      executors.close();
    }
  });
});
