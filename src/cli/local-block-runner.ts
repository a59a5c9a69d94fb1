import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { K8sBlockExecutor } from '../executor/block-executor.js';
import type { LocalBlockRunner } from '../executor/pipeline-types.js';
import type { ConfigSnapshot } from '../ports/config-source.js';

/**
 * The CLI's runner for blocks whose executor type is not `k8s`: it runs the command the block's
 * resolved config names (`container.command`/`args`) as a child process of this one, in the project
 * directory, with the container's plain `env` values. No command is a clear failure.
 */
export function commandBlockRunner(
  blocks: () => K8sBlockExecutor,
  snapshotOf: (pipelineUuid: string) => Promise<ConfigSnapshot>,
  cwd: string,
): LocalBlockRunner {
  return async (ctx) => {
    const prepared = await blocks().prepare(
      {
        pipelineUuid: ctx.pipelineUuid,
        blockUuid: ctx.blockUuid,
        pipelineRunId: ctx.pipelineRunId,
        blockRunId: `${ctx.pipelineRunId}-${ctx.blockUuid}`,
        attempt: ctx.attempt,
        variables: ctx.variables,
      },
      await snapshotOf(ctx.pipelineUuid),
    );
    const container = prepared.job.spec!.template.spec.containers[0]!;
    const argv = [...(container.command ?? []), ...(container.args ?? [])];
    if (argv.length === 0) {
      return {
        status: 'failed',
        message: `Block "${ctx.blockUuid}" runs locally but its config has no command: set container.command (and args) for it.`,
      };
    }
    const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' };
    for (const entry of container.env ?? []) {
      if (typeof entry.name === 'string' && typeof entry.value === 'string') env[entry.name] = entry.value;
    }
    return new Promise((resolve) => {
      const child = spawn(argv[0]!, argv.slice(1), { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
      const onAbort = () => child.kill('SIGTERM');
      ctx.signal.addEventListener('abort', onAbort, { once: true });
      for (const stream of [child.stdout, child.stderr]) {
        createInterface({ input: stream }).on('line', (line) => ctx.onLog(line));
      }
      child.on('error', (error) =>
        resolve({ status: 'failed', exitCode: 127, message: `Cannot start "${argv[0]}": ${error.message}` }),
      );
      child.on('close', (code, signal) => {
        ctx.signal.removeEventListener('abort', onAbort);
        if (code === 0) resolve({ status: 'succeeded', exitCode: 0 });
        else
          resolve({
            status: 'failed',
            ...(code !== null ? { exitCode: code } : {}),
            message:
              code !== null
                ? `Local block exited with code ${code}.`
                : `Local block was stopped by ${signal}.`,
          });
      });
    });
  };
}
