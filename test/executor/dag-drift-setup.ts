import { expect } from 'vitest';
import { K8sPipelineExecutor, type PipelineExecutorOptions } from '../../src/executor/pipeline-executor.js';
import type { ConfigDriftEvent, PipelineRun } from '../../src/executor/pipeline-types.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { InMemoryJobClient } from '../../src/testing/in-memory-job-client.js';
import type { PodScript } from '../../src/testing/pod-script.js';
import { StaticConfigSource } from '../../src/testing/static-config-source.js';
import type { Job } from '../../src/types/kube.js';
import { drive } from '../helpers/drive.js';
import { projectFiles } from '../helpers/project.js';

/** What the config drift tests share: one cluster that outlives the executors (the runs) against it. */

export const RUN = { pipelineUuid: 'etl', pipelineRunId: 7 } as const;
export const job = (uuid: string, attempt = 1) =>
  `mage-data-prep-block-7-${uuid}${attempt > 1 ? `-attempt-${attempt}` : ''}`;

/** A cluster (the fake clock and the Jobs' store) that outlives the executors run against it. */
export function cluster(defaultScript: PodScript[] = [{ runMs: 1000 }]) {
  const clock = new FakeClock();
  const jobClient = new InMemoryJobClient({ clock, defaultScript });
  const creates = () => jobClient.calls.filter((c) => c.method === 'createJob').length;
  return { clock, jobClient, creates };
}
export type Cluster = ReturnType<typeof cluster>;

/** The project whose pipeline `etl` has `blocksYaml`. */
export const project = (blocksYaml: string, projectConfig = '') => projectFiles(blocksYaml, projectConfig);

/** A new executor (a new orchestrator process) over `files`; Jobs are kept so a later run can resume. */
export function executorFor(
  c: Cluster,
  files: Record<string, string>,
  options: Partial<PipelineExecutorOptions> = {},
) {
  return new K8sPipelineExecutor({
    configSource: new StaticConfigSource(files),
    jobClient: c.jobClient,
    clock: c.clock,
    keepJobs: true,
    logDrainMs: 10,
    ...options,
  });
}

/** Runs pipeline run 7 to its end on a new executor; returns the result and the drift events. */
export async function runToEnd(
  c: Cluster,
  files: Record<string, string>,
  run: Partial<PipelineRun> = {},
  options: Partial<PipelineExecutorOptions> = {},
) {
  const executor = executorFor(c, files, options);
  const drift: ConfigDriftEvent[] = [];
  const result = await drive(
    c.clock,
    executor.run({ ...RUN, ...run }, { onEvent: (e) => e.type === 'config-drift' && drift.push(e) }),
  );
  executor.close();
  return { result, drift };
}

/** Runs pipeline run 7 on a new executor until `stop()` holds, then closes it (a shutdown, Jobs left). */
export async function runUntilClosed(c: Cluster, files: Record<string, string>, stop: () => boolean) {
  const executor = executorFor(c, files);
  const drift: ConfigDriftEvent[] = [];
  const run = executor.run(RUN, { onEvent: (e) => e.type === 'config-drift' && drift.push(e) });
  for (let i = 0; i < 1000 && !stop(); i++) await c.clock.advance(250);
  expect(stop()).toBe(true);
  executor.close();
  const result = await run;
  expect(result.closed).toBe(true);
  return { result, drift };
}

/** Whether a pod of Job `name` is running. */
export const running = (c: Cluster, name: string) =>
  c.jobClient.pods().some((p) => p.metadata.labels?.['job-name'] === name && p.status?.phase === 'Running');

/** `pipelines/etl/metadata.yaml:N`, N the first line of that file in `files` that contains `needle`. */
export function setIn(files: Record<string, string>, needle: string): string {
  const path = 'pipelines/etl/metadata.yaml';
  const line = files[path]!.split('\n').findIndex((l) => l.includes(needle)) + 1;
  expect(line).toBeGreaterThan(0);
  return `set in ${path}:${line}`;
}

export const memoryOf = (j: Job | undefined) =>
  j?.spec?.template.spec.containers[0]?.resources?.limits?.memory;

/** Pipeline `etl`: `load` with a memory limit, `report` downstream of it. */
export const LOAD_AND_REPORT = (memory: string) => `  - uuid: load
    executor_config:
      resource_limits:
        memory: ${memory}
  - uuid: report
    upstream_blocks: [load]
`;
