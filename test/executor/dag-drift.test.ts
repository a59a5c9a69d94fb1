import { describe, expect, it } from 'vitest';
import { K8sBlockExecutor } from '../../src/executor/block-executor.js';
import {
  CONFIG_FIELDS_ANNOTATION,
  CONFIG_HASH_ANNOTATION,
  configDrift,
  describeConfigDrift,
  recordedConfig,
} from '../../src/spec/drift.js';
import { StaticConfigSource } from '../../src/testing/static-config-source.js';
import {
  cluster,
  job,
  LOAD_AND_REPORT,
  project,
  RUN,
  running,
  runToEnd,
  runUntilClosed,
  setIn,
} from './dag-drift-setup.js';

/**
 * Config drift on resume, what it is: a resumed run compares each block's latest earlier attempt (its
 * Job's config record) with the block's config now, resolved for that same attempt and run ids and
 * with the same upstream outputs, names what changed and where it is set now; what it cannot tell is
 * never drift. (What the run then does: dag-drift-actions.test.ts.)
 */

describe('a resumed run whose block config changed', () => {
  it('names the changed memory limit and the file:line of its new value, and keeps the succeeded block', async () => {
    const c = cluster();
    const first = await runToEnd(c, project(LOAD_AND_REPORT('2Gi')));
    expect(first.result.status).toBe('succeeded');
    expect(first.drift).toEqual([]);
    const before = c.creates();

    const edited = project(LOAD_AND_REPORT('4Gi'));
    const sentence = 'container.resources.limits.memory 2Gi → 4Gi, set in pipelines/etl/metadata.yaml:6';
    expect(setIn(edited, 'memory: 4Gi')).toBe('set in pipelines/etl/metadata.yaml:6');
    const { result, drift } = await runToEnd(c, edited);

    expect(drift).toEqual([
      {
        type: 'config-drift',
        blockUuid: 'load',
        attempt: 1,
        jobName: job('load'),
        earlier: 'succeeded',
        action: 'kept',
        changes: [sentence],
        at: expect.any(Number),
      },
    ]);
    expect(result.status).toBe('succeeded');
    const [load, report] = result.blocks;
    expect(load!.attempts).toEqual([
      expect.objectContaining({
        attempt: 1,
        status: 'succeeded',
        fromEarlierRun: true,
        configDrift: [sentence],
      }),
    ]);
    expect(report!.attempts).toEqual([expect.objectContaining({ attempt: 1, fromEarlierRun: true })]);
    expect(report!.attempts[0]!.configDrift).toBeUndefined();
    // Not run again: nothing was created.
    expect(c.creates()).toBe(before);
  });

  it('reports nothing when the config did not change', async () => {
    const c = cluster();
    await runToEnd(c, project(LOAD_AND_REPORT('2Gi')));
    const { result, drift } = await runToEnd(c, project(LOAD_AND_REPORT('2Gi')), { rerunChanged: true });
    expect(drift).toEqual([]);
    expect(result.blocks.flatMap((b) => b.attempts).every((a) => a.configDrift === undefined)).toBe(true);
    expect(result.blocks.map((b) => b.attempts.length)).toEqual([1, 1]);
  });

  it('does not count args templated from the attempt: each attempt is compared at its own number', async () => {
    // The demo project's command: `--attempt {{ attempt }}` differs between attempts by design.
    const args = '    args: ["--attempt", "{{ attempt }}", "--run", "{{ pipeline_run_id }}"]\n';
    const files = project(
      `  - uuid: load
    retry_config:
      retries: 2
      delay: 60
`,
      args,
    );
    const c = cluster();
    c.jobClient.script(job('load', 1), [{ runMs: 100, exitCode: 1 }]);
    c.jobClient.script(job('load', 2), [{ runMs: 10 * 60_000 }]);

    // Run 1: attempt 1 fails; closed during the retry delay.
    const one = await runUntilClosed(c, files, () => c.jobClient.jobs().some((j) => j.status?.failed));
    expect(one.result.blocks[0]!.status).toBe('cancelled');
    // Run 2: the latest attempt (1) failed: attempt 2 starts; closed while it runs.
    const two = await runUntilClosed(c, files, () => running(c, job('load', 2)));
    expect(two.drift).toEqual([]);
    // Run 3: attempt 2 is running: adopted, it succeeds.
    const three = await runToEnd(c, files);
    expect(three.drift).toEqual([]);
    expect(three.result.blocks[0]!.attempts.at(-1)).toMatchObject({ attempt: 2, adopted: true });
    expect(three.result.blocks[0]!.attempts.at(-1)!.configDrift).toBeUndefined();
    // Run 4: attempt 2 succeeded: kept, still no drift.
    const four = await runToEnd(c, files, { rerunChanged: true });
    expect(four.drift).toEqual([]);
    expect(four.result.blocks[0]).toMatchObject({ status: 'succeeded' });

    // The records do differ between attempts: comparing attempt 1's with attempt 2's would be drift.
    const [first, second] = [job('load', 1), job('load', 2)].map(
      (name) => c.jobClient.jobs().find((j) => j.metadata.name === name)!,
    );
    expect(recordedConfig(first!)?.fields?.['container.args']).toBe('["--attempt","1","--run","7"]');
    expect(recordedConfig(second!)?.fields?.['container.args']).toBe('["--attempt","2","--run","7"]');
    expect(configDrift(first!, second!)?.changed).toBe(true);
  });
});

describe('what cannot be told is never drift', () => {
  it('treats a Job without a config record (an older version) as unknown', async () => {
    const c = cluster();
    const old = project(LOAD_AND_REPORT('2Gi'));
    const blocks = new K8sBlockExecutor({
      configSource: new StaticConfigSource(old),
      jobClient: c.jobClient,
      clock: c.clock,
    });
    for (const uuid of ['load', 'report']) {
      const prepared = await blocks.prepare({ ...RUN, blockUuid: uuid, blockRunId: `7-${uuid}` });
      const annotations = { ...prepared.job.metadata.annotations };
      delete annotations[CONFIG_HASH_ANNOTATION];
      delete annotations[CONFIG_FIELDS_ANNOTATION];
      await c.jobClient.createJob('default', {
        ...prepared.job,
        metadata: { ...prepared.job.metadata, annotations },
      });
    }
    await c.clock.advance(5000);
    const before = c.creates();

    const { result, drift } = await runToEnd(c, project(LOAD_AND_REPORT('4Gi')), { rerunChanged: true });

    expect(drift).toEqual([]);
    expect(result.blocks.map((b) => [b.uuid, b.status, b.attempts.length])).toEqual([
      ['load', 'succeeded', 1],
      ['report', 'succeeded', 1],
    ]);
    expect(c.creates()).toBe(before);
  });

  it("compares with the upstream output the earlier run's pods give, naming only the real change", async () => {
    const blocks = (memory: string) => `  - uuid: extract
  - uuid: load
    upstream_blocks: [extract]
    executor_config:
      resource_limits: {memory: ${memory}}
      container:
        args: ["--inputs", "{{ variables('upstream_outputs') }}"]
`;
    const c = cluster();
    c.jobClient.script(job('extract'), [{ runMs: 100, terminationMessage: '{"rows": 3}' }]);
    const first = await runToEnd(c, project(blocks('2Gi')));
    expect(first.result.blocks[1]!.attempts).toHaveLength(1);
    const args = recordedConfig(c.jobClient.jobs().find((j) => j.metadata.name === job('load'))!)?.fields;
    expect(args?.['container.args']).toBe('["--inputs","{\\"extract\\":{\\"rows\\":3}}"]');

    const same = await runToEnd(c, project(blocks('2Gi')));
    expect(same.drift).toEqual([]);
    const edited = project(blocks('4Gi'));
    const changed = await runToEnd(c, edited);
    expect(changed.drift.map((e) => [e.blockUuid, e.changes])).toEqual([
      ['load', [`container.resources.limits.memory 2Gi → 4Gi, ${setIn(edited, 'memory: 4Gi')}`]],
    ]);
  });

  it('reports nothing for a block whose template uses an upstream output no Job keeps (a local block)', async () => {
    const blocks = (memory: string) => `  - uuid: prep
    executor_type: local_python_force
  - uuid: load
    upstream_blocks: [prep]
    executor_config:
      resource_limits: {memory: ${memory}}
      container:
        args: ["--inputs", "{{ variables('upstream_outputs') }}"]
`;
    const localRunner = async () => ({ status: 'succeeded' as const, output: { rows: 3 } });
    const c = cluster();
    await runToEnd(c, project(blocks('2Gi')), {}, { localRunner });
    // The local block runs again in every run; load's earlier attempt is kept, and its input unknown.
    const { result, drift } = await runToEnd(
      c,
      project(blocks('4Gi')),
      { rerunChanged: true },
      { localRunner },
    );
    expect(drift).toEqual([]);
    expect(result.blocks[1]!.attempts).toEqual([
      expect.objectContaining({ attempt: 1, fromEarlierRun: true }),
    ]);
  });
});

describe('describeConfigDrift', () => {
  it('says the pod template changed when no field can be named', () => {
    expect(describeConfigDrift({ changed: true, changes: [], fieldsKnown: false })).toEqual([
      'the pod template changed (its fields were too many to record)',
    ]);
    expect(describeConfigDrift({ changed: false, changes: [], fieldsKnown: true })).toEqual([]);
  });
});
