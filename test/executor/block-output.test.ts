import { describe, expect, it } from 'vitest';
import { K8sBlockExecutor } from '../../src/executor/block-executor.js';
import { TERMINATION_MESSAGE_MAX_BYTES, terminationFields } from '../../src/executor/block-output.js';
import type { BlockRun } from '../../src/executor/types.js';
import { initialBlockState } from '../../src/monitor/reduce.js';
import type { BlockState, PodSummary } from '../../src/monitor/types.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { InMemoryJobClient } from '../../src/testing/in-memory-job-client.js';
import type { PodScript } from '../../src/testing/pod-script.js';
import { StaticConfigSource } from '../../src/testing/static-config-source.js';
import { drive } from '../helpers/drive.js';
import { projectFiles } from '../helpers/project.js';

/** `terminationMessage` and `output` of a BlockResult. */

const CONTAINER = 'mage-job-container';

function finalState(phase: 'succeeded' | 'failed', terminated: PodSummary['terminated']): BlockState {
  const pod: PodSummary = {
    name: 'p-1',
    phase: phase === 'succeeded' ? 'Succeeded' : 'Failed',
    createdAt: 0,
    ...(terminated ? { terminated } : {}),
  };
  return { ...initialBlockState('j', 0), phase, pods: { [pod.name]: pod }, currentPod: pod.name };
}

const ended = (message: string | undefined, exitCode = 0, containerName = CONTAINER) => ({
  exitCode,
  containerName,
  ...(message !== undefined ? { message } : {}),
});

describe('terminationFields', () => {
  it('parses the message of a succeeded block as JSON: objects, arrays and scalars', () => {
    expect(terminationFields(finalState('succeeded', ended('{"rows": 3}\n')), CONTAINER)).toEqual({
      terminationMessage: '{"rows": 3}',
      output: { rows: 3 },
    });
    expect(terminationFields(finalState('succeeded', ended('[1, 2]')), CONTAINER).output).toEqual([1, 2]);
    expect(terminationFields(finalState('succeeded', ended('42')), CONTAINER).output).toBe(42);
    const nullOutput = terminationFields(finalState('succeeded', ended('null')), CONTAINER);
    expect(Object.hasOwn(nullOutput, 'output') && nullOutput.output === null).toBe(true);
  });

  it('keeps a plain-text message without an output, and says why a JSON-looking one has none', () => {
    expect(terminationFields(finalState('succeeded', ended('all done')), CONTAINER)).toEqual({
      terminationMessage: 'all done',
    });
    const broken = terminationFields(finalState('succeeded', ended('{"rows": 3')), CONTAINER);
    expect(broken).not.toHaveProperty('output');
    expect(broken.outputError).toMatch(
      /^The termination message is not valid JSON \(.+\); a termination message holds at most 4096 bytes/,
    );
  });

  it('gives a failed block its message and no output', () => {
    expect(terminationFields(finalState('failed', ended('{"error": "disk full"}', 1)), CONTAINER)).toEqual({
      terminationMessage: '{"error": "disk full"}',
    });
  });

  it("ignores another container's message (an init container that failed), and an empty one", () => {
    expect(terminationFields(finalState('failed', ended('init broke', 1, 'setup')), CONTAINER)).toEqual({});
    expect(terminationFields(finalState('succeeded', ended('  \n')), CONTAINER)).toEqual({});
    expect(terminationFields(finalState('succeeded', undefined), CONTAINER)).toEqual({});
  });

  it('cuts a message longer than 4096 bytes at a character boundary, and says the cut broke the JSON', () => {
    const long = `["a${'é'.repeat(3000)}"]`; // 3 bytes, then 2 per character
    const fields = terminationFields(finalState('succeeded', ended(long)), CONTAINER);
    expect(Buffer.byteLength(fields.terminationMessage!)).toBe(TERMINATION_MESSAGE_MAX_BYTES - 1);
    expect(fields.terminationMessage!.endsWith('é')).toBe(true);
    expect(fields.outputError).toMatch(/longer than 4096 bytes and was cut/);
  });
});

describe('BlockResult.terminationMessage and output', () => {
  const RUN: BlockRun = { pipelineUuid: 'etl', blockUuid: 'load', pipelineRunId: 7, blockRunId: 42 };
  const NAME = 'mage-data-prep-block-42';

  async function run(script: PodScript, blockConfig = '') {
    const clock = new FakeClock();
    const jobClient = new InMemoryJobClient({ clock, scripts: { [NAME]: [script] } });
    const executor = new K8sBlockExecutor({
      configSource: new StaticConfigSource(projectFiles(`  - uuid: load\n${blockConfig}`)),
      jobClient,
      clock,
      logDrainMs: 10,
    });
    const result = await drive(clock, executor.execute(RUN));
    executor.close();
    return result;
  }

  it('a block that writes a JSON document to its termination message path gets it back as output', async () => {
    const result = await run({ runMs: 500, terminationMessage: '{"table": "sales", "rows": 1200}' });
    expect(result).toMatchObject({
      status: 'succeeded',
      terminationMessage: '{"table": "sales", "rows": 1200}',
      output: { table: 'sales', rows: 1200 },
    });
  });

  it('with FallbackToLogsOnError, a failed block that wrote nothing gets the end of its log as its message', async () => {
    const config = `    executor_config:
      container:
        termination_message_policy: FallbackToLogsOnError
`;
    const result = await run(
      { runMs: 500, logs: ['loading', 'Traceback: KeyError: id'], exitCode: 1 },
      config,
    );
    expect(result).toMatchObject({
      status: 'failed',
      reason: 'EXIT_CODE',
      terminationMessage: 'loading\nTraceback: KeyError: id',
    });
    expect(result).not.toHaveProperty('output');
  });

  it('a Kubernetes message cut at 4096 bytes is reported as such, with no output', async () => {
    const result = await run({ terminationMessage: JSON.stringify({ blob: 'x'.repeat(5000) }) });
    expect(Buffer.byteLength(result.terminationMessage!)).toBe(4096);
    expect(result).not.toHaveProperty('output');
    expect(result.outputError).toMatch(/not valid JSON/);
  });
});
