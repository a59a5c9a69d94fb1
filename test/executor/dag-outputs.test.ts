import { describe, expect, it } from 'vitest';
import { K8sBlockExecutor } from '../../src/executor/block-executor.js';
import { K8sPipelineExecutor, type PipelineExecutorOptions } from '../../src/executor/pipeline-executor.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { InMemoryJobClient } from '../../src/testing/in-memory-job-client.js';
import type { PodScript } from '../../src/testing/pod-script.js';
import { StaticConfigSource } from '../../src/testing/static-config-source.js';
import { drive } from '../helpers/drive.js';

/**
 * A block's `output` (its termination message as JSON) reaches its downstream blocks as the run
 * variable `upstream_outputs`: `{{ variables('upstream_outputs') }}` in their command, `--runtime-vars`
 * of Mage's command.
 */

const jobOf = (block: string) => `mage-data-prep-block-7-${block}`;

/** A project whose blocks echo `upstream_outputs` (blocks with upstreams) or their uuid (root blocks). */
function files(blocksYaml: string, projectCommand?: string): Record<string, string> {
  return {
    'metadata.yaml': `executor_type: k8s
k8s_executor_config:
  image: mageai/mageai:0.9.76
${projectCommand ?? '  container:\n    command: ["sh", "-c", "echo {{ block_uuid }}"]'}
`,
    'pipelines/etl/metadata.yaml': `uuid: etl\nblocks:\n${blocksYaml}`,
  };
}

const ECHO_UPSTREAM = `    executor_config:
      container:
        command: ["sh", "-c", "echo '{{ variables('upstream_outputs') }}'"]
`;

function setup(
  projectFiles: Record<string, string>,
  scripts: Record<string, PodScript[]>,
  options: Partial<PipelineExecutorOptions> = {},
) {
  const clock = new FakeClock();
  const jobClient = new InMemoryJobClient({ clock, scripts, defaultScript: [{ runMs: 100 }] });
  const configSource = new StaticConfigSource(projectFiles);
  const executor = new K8sPipelineExecutor({ configSource, jobClient, clock, logDrainMs: 10, ...options });
  const run = () =>
    drive(clock, executor.run({ pipelineUuid: 'etl', pipelineRunId: 7 })).finally(() => executor.close());
  const commandOf = (job: string) =>
    jobClient.createdJobs.find((j) => j.metadata.name === job)?.spec?.template.spec.containers[0]?.command;
  return { clock, jobClient, configSource, run, commandOf };
}

describe('upstream_outputs', () => {
  it("gives each downstream block its upstream blocks' outputs, by uuid (upstreams without one are left out)", async () => {
    const { run, commandOf } = setup(
      files(`  - uuid: extract
  - uuid: audit
  - uuid: load
    upstream_blocks: [extract, audit]
${ECHO_UPSTREAM}`),
      { [jobOf('extract')]: [{ runMs: 100, terminationMessage: '{"rows": 3, "path": "s3://b/x"}' }] },
    );
    const result = await run();
    expect(result.status).toBe('succeeded');
    expect(result.blocks[0]).toMatchObject({ uuid: 'extract', output: { rows: 3, path: 's3://b/x' } });
    expect(result.blocks[1]).not.toHaveProperty('output');
    expect(commandOf(jobOf('load'))).toEqual(['sh', '-c', `echo '{"extract":{"rows":3,"path":"s3://b/x"}}'`]);
  });

  it('is {} for a block whose upstream blocks have no output, and for a root block (a project-wide template works for every block)', async () => {
    const downstream = setup(
      files(`  - uuid: a\n  - uuid: b\n    upstream_blocks: [a]\n${ECHO_UPSTREAM}`),
      {},
    );
    await downstream.run();
    expect(downstream.commandOf(jobOf('b'))).toEqual(['sh', '-c', "echo '{}'"]);

    const root = setup(files(`  - uuid: a\n${ECHO_UPSTREAM}`), {});
    await root.run();
    expect(root.commandOf(jobOf('a'))).toEqual(['sh', '-c', "echo '{}'"]);
  });

  it("reaches Mage's command in --runtime-vars", async () => {
    const { run, commandOf } = setup(
      files(`  - uuid: a\n  - uuid: b\n    upstream_blocks: [a]\n`, '  command: mage'),
      { [jobOf('a')]: [{ runMs: 100, terminationMessage: '[1,2]' }] },
    );
    await run();
    const command = commandOf(jobOf('b'))!;
    expect(command.slice(-2)).toEqual([
      '--runtime-vars',
      JSON.stringify({ upstream_outputs: { a: [1, 2] } }),
    ]);
    expect(commandOf(jobOf('a'))).not.toContain('--runtime-vars'); // a root block gets no upstream_outputs
  });

  it("takes a local block's output like a Job's", async () => {
    const { run, commandOf } = setup(
      files(`  - uuid: prep
    executor_type: local_python_force
  - uuid: load
    upstream_blocks: [prep]
${ECHO_UPSTREAM}`),
      {},
      { localRunner: async () => ({ status: 'succeeded', output: { ready: true } }) },
    );
    const result = await run();
    expect(result.blocks[0]).toMatchObject({ uuid: 'prep', executor: 'local', output: { ready: true } });
    expect(commandOf(jobOf('load'))).toEqual(['sh', '-c', `echo '{"prep":{"ready":true}}'`]);
  });

  it('a resumed run takes the output of an upstream that succeeded in the earlier run from its pod', async () => {
    const project = files(`  - uuid: a\n  - uuid: b\n    upstream_blocks: [a]\n${ECHO_UPSTREAM}`);
    const { clock, jobClient, configSource, run, commandOf } = setup(project, {
      [jobOf('a')]: [{ runMs: 100, terminationMessage: '{"batch": 9}' }],
    });
    // The earlier run (it crashed) finished a; its Job and pod are still there.
    const earlier = new K8sBlockExecutor({ configSource, jobClient, clock });
    await drive(
      clock,
      earlier.execute(
        { pipelineUuid: 'etl', blockUuid: 'a', pipelineRunId: 7, blockRunId: '7-a' },
        { keepJob: true },
      ),
    );
    earlier.close();

    const result = await run();
    expect(result.blocks[0]).toMatchObject({ uuid: 'a', status: 'succeeded', output: { batch: 9 } });
    expect(result.blocks[0]!.attempts).toEqual([expect.objectContaining({ fromEarlierRun: true })]);
    expect(jobClient.createdJobs.filter((j) => j.metadata.name === jobOf('a'))).toHaveLength(1); // not run again
    expect(commandOf(jobOf('b'))).toEqual(['sh', '-c', `echo '{"a":{"batch":9}}'`]);
  });
});
