import { writeFile } from 'node:fs/promises';
import { FsConfigSource } from '../adapters/fs/fs-config-source.js';
import { commandBlockRunner } from '../adapters/local/command-block-runner.js';
import { readPipeline } from '../config/index.js';
import { createExecutors, type Executors } from '../create.js';
import type { PipelineResult } from '../executor/pipeline-types.js';
import { systemClock } from '../ports/clock.js';
import { type CliArgs, required } from './args.js';
import { ProgressView } from './progress.js';
import { formatTable } from './table.js';
import { renderTimeline } from './timeline.js';

/** `run`: runs a pipeline with live progress; returns the exit code (0 ok, 1 failed or cancelled). */
export async function runCommand(
  args: CliArgs,
  env: Record<string, string | undefined>,
  out: NodeJS.WriteStream,
  signal: AbortSignal,
): Promise<number> {
  const projectDir = required(args.project, '--project DIR', 'run');
  const pipelineUuid = required(args.pipeline, '--pipeline UUID', 'run');
  const source = new FsConfigSource({ projectDir, env });
  const snapshot = await source.load(pipelineUuid);
  const pipeline = readPipeline(snapshot);
  const pipelineRunId = args.pipelineRunId ?? `run-${systemClock.now().toString(36)}`;
  // The local runner resolves blocks through the same executor it is part of, so it is bound late.
  let executors: Executors | undefined;
  const localRunner = commandBlockRunner({
    blocks: () => executors!.blocks,
    snapshotOf: () => Promise.resolve(snapshot),
    cwd: projectDir,
  });
  executors = createExecutors({
    projectDir,
    env,
    backend: args.local ? 'local' : 'kubernetes',
    ...(args.concurrency !== undefined ? { concurrency: args.concurrency } : {}),
    ...(args.mode ? { mode: args.mode } : {}),
    keepJobs: args.keepJobs,
    localRunner,
  });
  const blocks = args.mode === 'single-job' ? [pipeline.uuid] : pipeline.blocks.map((b) => b.uuid);
  out.write(
    `Running pipeline ${pipelineUuid} (run ${pipelineRunId}) ${args.local ? 'on the local backend' : 'on the current kubeconfig cluster'}, ${blocks.length} block(s)\n`,
  );
  const view = new ProgressView(out, blocks, () => systemClock.now());
  let result: PipelineResult;
  try {
    result = await executors.pipelines.run(
      {
        pipelineUuid,
        pipelineRunId,
        variables: args.vars,
        ...(args.trigger !== undefined ? { triggerName: args.trigger } : {}),
      },
      { signal, onEvent: (e) => view.onEvent(e), onLog: (block, line) => view.log(block, line.line) },
    );
  } finally {
    view.stop();
    await executors.close();
  }
  out.write(`\n${summary(result)}`);
  if (args.timeline) {
    await writeFile(args.timeline, renderTimeline(result));
    out.write(`Timeline written to ${args.timeline}\n`);
  }
  return result.status === 'succeeded' ? 0 : 1;
}

/** The final summary table of a run. */
export function summary(result: PipelineResult): string {
  const rows = result.blocks.map((b) => {
    const last = b.attempts.at(-1);
    const duration =
      b.startedAt !== undefined && b.finishedAt !== undefined
        ? `${((b.finishedAt - b.startedAt) / 1000).toFixed(1)} s`
        : '-';
    return [
      b.uuid,
      b.status,
      String(b.attempts.length),
      duration,
      b.reason ?? '',
      // The table keeps one line per block; failed blocks get their full message below it.
      ellipsis(b.message ?? last?.message ?? '', 80),
    ];
  });
  const counts = ['succeeded', 'failed', 'skipped', 'cancelled']
    .map((s) => [s, result.blocks.filter((b) => b.status === s).length] as const)
    .filter(([, n]) => n > 0)
    .map(([s, n]) => `${n} ${s}`)
    .join(', ');
  const wall = ((result.finishedAt - result.startedAt) / 1000).toFixed(1);
  return `${formatTable(['BLOCK', 'STATUS', 'ATTEMPTS', 'DURATION', 'REASON', 'MESSAGE'], rows, 80)}${failures(result)}\nPipeline ${result.pipelineUuid} ${result.status.toUpperCase()} in ${wall} s: ${counts}\n`;
}

/** `text` cut to `max` characters. */
function ellipsis(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** The full reason of each failed block, with its last log lines: what the table had to cut. */
function failures(result: PipelineResult): string {
  const failed = result.blocks.filter((b) => b.status === 'failed');
  return failed
    .map((b) => {
      const job = b.attempts.at(-1)?.jobName;
      const logs = b.lastLogLines.slice(-10).map((l) => `    | ${l}`);
      const events = b.warningEvents
        .slice(-5)
        .map((e) => `    ${e.object} ${e.reason}${e.count > 1 ? ` (x${e.count})` : ''}: ${e.message}`);
      return [
        `\n${b.uuid} failed [${b.reason ?? 'JOB_FAILED'}]${job ? ` (Job ${job})` : ''}:`,
        `  ${b.message ?? ''}`,
        ...(events.length > 0 ? ['  warning events:', ...events] : []),
        ...(logs.length > 0 ? ['  last log lines:', ...logs] : []),
      ].join('\n');
    })
    .join('\n')
    .concat(failed.length > 0 ? '\n' : '');
}
