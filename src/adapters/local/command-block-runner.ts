import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { K8sBlockExecutor } from '../../executor/block-executor.js';
import type { LocalBlockRunner } from '../../executor/pipeline-types.js';
import { type Clock, systemClock } from '../../ports/clock.js';
import type { ConfigSnapshot } from '../../ports/config-source.js';

/** Where and how {@link commandBlockRunner} runs a block. */
export interface CommandBlockRunnerOptions {
  /** The executor whose config resolution gives each block its command (bound late: it may own this runner). */
  blocks: () => K8sBlockExecutor;
  /** The config snapshot of a pipeline. */
  snapshotOf: (pipelineUuid: string) => Promise<ConfigSnapshot>;
  /** The working directory (the project directory). */
  cwd: string;
  /** SIGTERM, then SIGKILL after this long, on cancel. @default 5000 */
  killGraceMs?: number;
  /** For the kill grace. @default the system clock */
  clock?: Clock;
}

/**
 * A runner for blocks whose executor type is not `k8s` (used by the CLI): it runs the command the
 * block's resolved config names (`container.command`/`args`) as a child process in its own process
 * group, in the project directory, with the container's plain `env` values. No command is a clear
 * failure; cancel sends SIGTERM to the group, then SIGKILL after a grace.
 */
export function commandBlockRunner(options: CommandBlockRunnerOptions): LocalBlockRunner {
  const clock = options.clock ?? systemClock;
  const graceMs = options.killGraceMs ?? 5000;
  return async (ctx) => {
    const prepared = await options.blocks().prepare(
      {
        pipelineUuid: ctx.pipelineUuid,
        blockUuid: ctx.blockUuid,
        pipelineRunId: ctx.pipelineRunId,
        blockRunId: ctx.blockRunId,
        attempt: ctx.attempt,
        variables: ctx.variables,
        ...(ctx.triggerName !== undefined ? { triggerName: ctx.triggerName } : {}),
      },
      await options.snapshotOf(ctx.pipelineUuid),
      ctx.signal,
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
      const child = spawn(argv[0]!, argv.slice(1), {
        cwd: options.cwd,
        env,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const grace = new AbortController();
      const killGroup = (signal: NodeJS.Signals) => {
        try {
          if (child.pid !== undefined) process.kill(-child.pid, signal);
        } catch {
          // Already gone.
        }
      };
      const onAbort = () => {
        killGroup('SIGTERM');
        clock.sleep(graceMs, grace.signal).then(
          () => killGroup('SIGKILL'),
          () => undefined,
        );
      };
      const done = (result: Awaited<ReturnType<LocalBlockRunner>>) => {
        ctx.signal.removeEventListener('abort', onAbort);
        grace.abort();
        resolve(result);
      };
      if (ctx.signal.aborted) onAbort();
      else ctx.signal.addEventListener('abort', onAbort, { once: true });
      for (const stream of [child.stdout, child.stderr]) {
        createInterface({ input: stream }).on('line', (line) => ctx.onLog(line));
      }
      child.on('error', (error) =>
        done({ status: 'failed', exitCode: 127, message: `Cannot start "${argv[0]}": ${error.message}` }),
      );
      child.on('close', (code, signal) => {
        if (code === 0) done({ status: 'succeeded', exitCode: 0 });
        else
          done({
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
