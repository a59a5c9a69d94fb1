// A run that began (execute() called) before close() is stopped by that close even while its config is
// still being loaded: it takes the executor's close signal when it begins, not once it is planned (the
// close puts a new signal in place for the runs after it). docs/runtime.md: "no create starts after it".
import { describe, expect, it } from 'vitest';
import { K8sBlockExecutor } from '../../src/executor/block-executor.js';
import type { ConfigSnapshot } from '../../src/ports/config-source.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { InMemoryJobClient } from '../../src/testing/in-memory-job-client.js';
import { StaticConfigSource } from '../../src/testing/static-config-source.js';
import { drive } from '../helpers/drive.js';
import { projectFiles } from '../helpers/project.js';

describe('close() while a run loads its config', () => {
  it('creates no Job after the close, and the run rejects with CANCELLED', async () => {
    const clock = new FakeClock();
    const jobClient = new InMemoryJobClient({ clock, defaultScript: [{ runMs: 1000 }] });
    const files = new StaticConfigSource(projectFiles('  - uuid: b0\n    executor_type: k8s\n'));
    let loaded: (() => void) | undefined;
    const configSource = {
      load: async (uuid?: string): Promise<ConfigSnapshot> => {
        await new Promise<void>((resolve) => {
          loaded = resolve;
        });
        return files.load(uuid);
      },
    } as unknown as StaticConfigSource;
    const executor = new K8sBlockExecutor({
      configSource,
      jobClient,
      clock,
      logDrainMs: 100,
      telemetry: false,
    });
    const run = executor.execute({ pipelineUuid: 'etl', blockUuid: 'b0', pipelineRunId: 1, blockRunId: 1 });
    const outcome = run.then(
      (r) => ({ resolved: r.status }),
      (e: unknown) => ({ rejected: (e as { code?: string }).code }),
    );
    for (let i = 0; i < 10 && !loaded; i++) await new Promise((r) => setImmediate(r));
    executor.close(); // SIGTERM of the orchestrator while the block's config is being read
    loaded?.();
    const settled = await drive(clock, outcome, 250, 60_000);
    executor.close();
    expect(jobClient.createdJobs.map((j) => j.metadata.name)).toEqual([]);
    expect(settled).toEqual({ rejected: 'CANCELLED' });
  });
});
