import { describe, expect, it } from 'vitest';
import { commandBlockRunner } from '../../../src/adapters/local/command-block-runner.js';
import { K8sBlockExecutor } from '../../../src/executor/block-executor.js';
import type { LocalBlockContext } from '../../../src/executor/pipeline-types.js';
import type { JobClient } from '../../../src/ports/job-client.js';
import { StaticConfigSource } from '../../../src/testing/static-config-source.js';

function runnerFor(command: string[]) {
  const source = new StaticConfigSource({
    'metadata.yaml': `k8s_executor_config:\n  image: x\n  container:\n    command: ${JSON.stringify(command)}\n    env: [{name: GREETING, value: hello}]\n`,
    'pipelines/p/metadata.yaml': 'blocks:\n  - uuid: b\n    executor_type: local_python_force\n',
  });
  const blocks = new K8sBlockExecutor({ configSource: source, jobClient: {} as JobClient });
  return commandBlockRunner({
    blocks: () => blocks,
    snapshotOf: (uuid) => source.load(uuid),
    cwd: process.cwd(),
    killGraceMs: 300,
  });
}

function context(signal: AbortSignal, lines: string[], onLine?: (line: string) => void): LocalBlockContext {
  return {
    pipelineUuid: 'p',
    pipelineRunId: '1',
    blockUuid: 'b',
    blockRunId: '1-b',
    attempt: 1,
    variables: {},
    signal,
    onLog: (l) => {
      lines.push(l);
      onLine?.(l);
    },
  };
}

describe('commandBlockRunner (the CLI runner of non-k8s blocks)', () => {
  it('runs the configured command with the plain env values and streams its output', async () => {
    const lines: string[] = [];
    const result = await runnerFor([
      process.execPath,
      '-e',
      'console.log(process.env.GREETING); process.exit(3)',
    ])(context(new AbortController().signal, lines));
    expect(lines).toEqual(['hello']);
    expect(result).toMatchObject({ status: 'failed', exitCode: 3 });
  });

  it('on cancel, kills a process that ignores SIGTERM once the grace is over', async () => {
    const controller = new AbortController();
    // Cancel once the SIGTERM handler is installed (it prints `up` after), not after a fixed time.
    const pending = runnerFor([
      process.execPath,
      '-e',
      "process.on('SIGTERM', () => {}); console.log('up'); setInterval(() => {}, 1000)",
    ])(context(controller.signal, [], (line) => line === 'up' && controller.abort()));
    const result = await pending;
    expect(result.status).toBe('failed');
    expect(result.message).toMatch(/SIGKILL/);
  });
});
