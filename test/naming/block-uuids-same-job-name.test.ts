/**
 * Regression (review finding `block-uuids-same-job-name`). Before: two blocks of one pipeline whose uuids differ only in characters the Job name cannot hold
 * (`a_b`, `a-b`, `A.B`: Mage writes uuids by hand or from names) get the same default block run id after
 * normalization (`<run>-a-b`), so a DAG run gives them the same Job name. The second block fails at run time
 * with JOB_NAME_COLLISION, whose message blames a Job "not created by k8s-executor for this run" (it was: by
 * this very run) and advises MAGE_CLUSTER_UUID (which changes nothing). `validate` says "no problems found".
 * Now a run id that loses more than case and `_`→`-` gets a hash (`A.B` has a Job of its own), and `validate`
 * refuses the pipeline whose `a_b` and `a-b` would still meet, naming both blocks.
 */
import { describe, expect, it } from 'vitest';
import { K8sPipelineExecutor } from '../../src/executor/pipeline-executor.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { InMemoryJobClient } from '../../src/testing/in-memory-job-client.js';
import { StaticConfigSource } from '../../src/testing/static-config-source.js';
import { cli } from '../cli/run-cli.js';
import { drive } from '../helpers/drive.js';
import { projectFiles, writeProject } from '../helpers/project.js';

const BLOCKS = '  - uuid: a_b\n  - uuid: a-b\n  - uuid: "A.B"\n';

describe('blocks whose uuids normalize alike', () => {
  it('each get a Job of their own in a DAG run, or validate refuses the pipeline', async () => {
    const clock = new FakeClock();
    const jobClient = new InMemoryJobClient({ clock, defaultScript: [{ runMs: 1000 }] });
    const executor = new K8sPipelineExecutor({
      configSource: new StaticConfigSource(projectFiles(BLOCKS)),
      jobClient,
      clock,
      logDrainMs: 10,
    });
    const result = await drive(clock, executor.run({ pipelineUuid: 'etl', pipelineRunId: 7 })).finally(() =>
      executor.close(),
    );
    const outcomes = result.blocks.map((b) => `${b.uuid}:${b.status}${b.reason ? `:${b.reason}` : ''}`);
    const validated = await cli(['validate', '--project', writeProject(projectFiles(BLOCKS))]);
    const refusedUpFront = validated.code === 1 && /a_b[\s\S]*a-b|a-b[\s\S]*a_b/.test(validated.stderr);
    if (refusedUpFront) return;
    // Today: validate exits 0 and the run fails two of the three blocks with JOB_NAME_COLLISION.
    expect(outcomes).toEqual(['a_b:succeeded', 'a-b:succeeded', 'A.B:succeeded']);
    expect(new Set(jobClient.createdJobs.map((j) => j.metadata.name)).size).toBe(3);
  });
});

describe('validate names the blocks that would meet', () => {
  it('reports the later block at its line, naming the earlier one; A.B is not reported (its name has a hash)', async () => {
    const validated = await cli(['validate', '--project', writeProject(projectFiles(BLOCKS))]);
    expect(validated.code).toBe(1);
    const lines = validated.stderr.split('\n').filter((l) => l.includes('same Job name'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /pipelines\/etl\/metadata\.yaml:\d+: blocks\[1\]\.uuid: block "a-b" would get the same Job name as block "a_b" \(line \d+\)/,
    );
  });

  it('blocks that do not run as Jobs do not meet', async () => {
    const local = '  - uuid: a_b\n    executor_type: ecs\n  - uuid: a-b\n';
    const validated = await cli(['validate', '--project', writeProject(projectFiles(local))]);
    expect(validated.stderr).not.toContain('same Job name');
  });
});
