// Every Job that `render` builds for the seed-doc example projects (test/fixtures/projects/seed-*) is
// accepted by a real API server: a server-side dry run (`dryRun=All`) validates and defaults it
// without storing it. Same path as `render`: K8sBlockExecutor.prepare / preparePipelineJob over an
// FsConfigSource. Needs only a cluster (no KWOK fates).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createClientNodeAdapters } from '../../../src/adapters/client-node/index.js';
import { FsConfigSource } from '../../../src/adapters/fs/fs-config-source.js';
import { readPipeline } from '../../../src/config/index.js';
import { K8sBlockExecutor } from '../../../src/executor/block-executor.js';
import type { PreparedRun } from '../../../src/executor/prepare.js';
import type { JobClient } from '../../../src/ports/job-client.js';
import { clusterAvailable, useTestNamespace } from './support/cluster.js';

const ROOT = 'test/fixtures/projects';
const INDEX = parse(readFileSync(`${ROOT}/index.yaml`, 'utf8')) as Record<
  string,
  { env?: Record<string, string> }
>;
const SEED_PROJECTS = Object.keys(INDEX).filter((name) => name.startsWith('seed-'));

/** Like `render`'s: building a Job must not reach a cluster, so every call is refused. */
const NO_CLUSTER = new Proxy({} as JobClient, {
  get: (_target, method) => () =>
    Promise.reject(new Error(`render must not call the API (${String(method)})`)),
});

/** Every Job `render` would print for a project: each k8s block's, and the pipeline's when it is k8s. */
async function renderAll(project: string): Promise<PreparedRun[]> {
  const configSource = new FsConfigSource({
    projectDir: `${ROOT}/${project}`,
    env: INDEX[project]?.env ?? {},
  });
  const executor = new K8sBlockExecutor({ configSource, jobClient: NO_CLUSTER });
  const prepared: PreparedRun[] = [];
  for (const pipelineUuid of await configSource.listPipelines()) {
    const pipeline = readPipeline(await configSource.load(pipelineUuid));
    const run = { pipelineUuid, pipelineRunId: '1', triggerName: 'Nightly Run' };
    for (const block of pipeline.blocks.filter((b) => b.executorType === 'k8s')) {
      prepared.push(await executor.prepare({ ...run, blockUuid: block.uuid, blockRunId: '2' }));
    }
    if (pipeline.executorType === 'k8s') prepared.push(await executor.preparePipelineJob(run));
  }
  executor.close();
  return prepared;
}

describe.skipIf(!clusterAvailable())('rendered seed-doc Jobs pass a server-side dry run', () => {
  const ns = useTestNamespace('e2e-dry-run');

  it('lists the seed projects', () => {
    expect(SEED_PROJECTS.length).toBeGreaterThanOrEqual(16);
  });

  it.each(SEED_PROJECTS)('%s: every Job is accepted by the API server', async (project) => {
    const { jobClient } = createClientNodeAdapters();
    const prepared = await renderAll(project);
    expect(prepared.length).toBeGreaterThan(0);

    for (const { job, jobName } of prepared) {
      // The fixtures name their own namespaces (default, data-pipelines, ...): send each Job to the test's.
      const inTestNamespace = { ...job, metadata: { ...job.metadata, namespace: ns.name } };
      const accepted = await jobClient.createJob(ns.name, inTestNamespace, { dryRun: true });

      expect(accepted.metadata.name).toBe(jobName);
      // Validated and defaulted by the server (it picked the selector), but not stored.
      expect(accepted.spec?.['selector']).toBeDefined();
      expect(accepted.spec?.template.spec.containers.map((c) => c.image)).toEqual(
        job.spec?.template.spec.containers.map((c) => c.image),
      );
    }
    const stored = await ns.batch.listNamespacedJob({ namespace: ns.name });
    expect(stored.items).toEqual([]);
  });
});
