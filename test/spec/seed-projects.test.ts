import { readdirSync, readFileSync } from 'node:fs';
import { Job as JobModel } from 'kubernetes-models/batch/v1';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { FsConfigSource } from '../../src/adapters/fs/fs-config-source.js';
import { readPipeline } from '../../src/config/index.js';
import { K8sBlockExecutor } from '../../src/executor/block-executor.js';
import type { JobClient } from '../../src/ports/job-client.js';
import type { Job } from '../../src/types/kube.js';

// GIVEN every example config of the seed documents, as a Mage project under test/fixtures/projects/seed-*
// WHEN each of its k8s blocks (and each pipeline, as one Job) is rendered exactly as `k8s-executor render` does
// THEN the Job validates against the official batch/v1 Job schema.
const root = 'test/fixtures/projects';
const index = parse(readFileSync(`${root}/index.yaml`, 'utf8')) as Record<
  string,
  { env?: Record<string, string> }
>;
const seeds = readdirSync(root).filter((d) => d.startsWith('seed-'));
const unusedClient = {} as JobClient;

async function renderAll(project: string): Promise<{ label: string; job: Job }[]> {
  const env = index[project]?.env ?? {};
  const configSource = new FsConfigSource({ projectDir: `${root}/${project}`, env });
  const executor = new K8sBlockExecutor({ configSource, jobClient: unusedClient });
  const jobs: { label: string; job: Job }[] = [];
  for (const uuid of await configSource.listPipelines()) {
    const snapshot = await configSource.load(uuid);
    const pipeline = readPipeline(snapshot);
    for (const block of pipeline.blocks.filter((b) => b.executorType === 'k8s')) {
      const prepared = await executor.prepare(
        {
          pipelineUuid: uuid,
          blockUuid: block.uuid,
          pipelineRunId: 3,
          blockRunId: 42,
          triggerName: 'Nightly Run',
        },
        snapshot,
      );
      jobs.push({ label: `${uuid}/${block.uuid}`, job: prepared.job });
    }
    if (pipeline.executorType === 'k8s' && pipeline.blocks.every((b) => b.executorType === 'k8s')) {
      const prepared = await executor
        .preparePipelineJob({ pipelineUuid: uuid, pipelineRunId: 3, triggerName: 'Nightly Run' }, snapshot)
        .catch(() => undefined); // a project-wide command may use block variables; blocks are what matter there
      if (prepared) jobs.push({ label: `${uuid} (whole pipeline)`, job: prepared.job });
    }
  }
  executor.close();
  return jobs;
}

describe('seed-doc examples render to valid batch/v1 Jobs', () => {
  it('has a fixture project for each seed document section', () => {
    expect(seeds.length).toBeGreaterThanOrEqual(12);
  });

  it('the schema check itself rejects what the API server would (snake_case fields, a string backoffLimit)', async () => {
    const job = (await renderAll('seed-002-basic'))[0]!.job;
    const spec = job.spec!;
    const broken = {
      ...job,
      spec: {
        ...spec,
        backoffLimit: 'two',
        template: { ...spec.template, spec: { ...spec.template.spec, node_selector: { a: 'b' } } },
      },
    };
    expect(() => new JobModel(broken as never).validate()).toThrow();
  });

  for (const project of seeds) {
    it(project, async () => {
      const jobs = await renderAll(project);
      expect(jobs.length).toBeGreaterThan(0);
      for (const { label, job } of jobs) {
        expect(() => new JobModel(job as never).validate(), label).not.toThrow();
        expect(job.metadata.name!.length, label).toBeLessThanOrEqual(63);
        expect(job.spec!.template.spec.containers[0]!.image, label).toBeTruthy();
      }
    });
  }
});
