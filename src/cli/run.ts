import { constants } from 'node:fs';
import { access, stat, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { FsConfigSource } from '../adapters/fs/fs-config-source.js';
import { commandBlockRunner } from '../adapters/local/command-block-runner.js';
import { readPipeline, runModeOf } from '../config/index.js';
import { createExecutors, type Executors } from '../create.js';
import type { ConfigDriftEvent, PipelineResult } from '../executor/pipeline-types.js';
import { systemClock } from '../ports/clock.js';
import { type CliArgs, required, usageError } from './args.js';
import { localBackendWarnings } from './local-warnings.js';
import { ProgressView, useColor } from './progress.js';
import { blockOverrides, runOverrides } from './set-flags.js';
import { formatTable } from './table.js';
import { renderTimeline } from './timeline/html.js';
import { ellipsis, plural } from './words.js';

/** `run`: runs a pipeline with live progress; returns the exit code (0 ok, 1 failed or cancelled). */
export async function runCommand(
  args: CliArgs,
  env: Record<string, string | undefined>,
  out: NodeJS.WriteStream,
  signal: AbortSignal,
): Promise<number> {
  const projectDir = required(args.project, '--project DIR', 'run');
  const pipelineUuid = required(args.pipeline, '--pipeline UUID', 'run');
  // A path that cannot be written is a usage error now, not a lost timeline after a long run.
  if (args.timeline) await checkWritable(args.timeline);
  const source = new FsConfigSource({ projectDir, env });
  const snapshot = await source.load(pipelineUuid);
  const pipeline = readPipeline(snapshot);
  const pipelineRunId = args.pipelineRunId ?? `run-${systemClock.now().toString(36)}`;
  const mode = runModeOf(pipeline, args.mode);
  if (mode === 'single-job' && args.setBlocks.length > 0)
    throw usageError('--set-block is for dag runs: a single-job run has no block Jobs (use --set)', 'run');
  if (mode === 'single-job' && args.rerunChanged)
    throw usageError('--rerun-changed is for dag runs: a single-job run has no block Jobs', 'run');
  const overrides = runOverrides(args);
  const perBlock = blockOverrides(
    args,
    pipeline.blocks.map((b) => b.uuid),
  );
  const run = {
    pipelineUuid,
    pipelineRunId,
    variables: args.vars,
    ...(args.trigger !== undefined ? { triggerName: args.trigger } : {}),
    ...(overrides.length > 0 ? { overrides } : {}),
    ...(Object.keys(perBlock).length > 0 ? { blockOverrides: perBlock } : {}),
    ...(args.rerunChanged ? { rerunChanged: true } : {}),
  };
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
    ...(args.kubeconfig !== undefined ? { kubeconfigPath: args.kubeconfig } : {}),
    ...(args.context !== undefined ? { context: args.context } : {}),
    keepJobs: args.keepJobs,
    localRunner,
  });
  const blocks = mode === 'single-job' ? [pipeline.uuid] : pipeline.blocks.map((b) => b.uuid);
  const where = args.local
    ? 'on the local backend'
    : `on the cluster of ${args.context ? `kubeconfig context "${args.context}"` : 'the current kubeconfig context'}`;
  const header = `Running pipeline ${pipelineUuid} (run ${pipelineRunId}) ${where}, ${plural(blocks.length, 'block')}\n`;
  let view: ProgressView | undefined;
  // On a cluster, the first event comes once the kubeconfig loaded and the API answered: only then is
  // "running on the cluster" true (a missing kubeconfig prints its error alone).
  const started = () => {
    if (view) return view;
    out.write(header);
    view = new ProgressView(out, blocks, () => systemClock.now(), { color: useColor(out, env) });
    return view;
  };
  let result: PipelineResult;
  try {
    if (args.local) {
      const warnings = await localBackendWarnings(executors.blocks, pipeline, snapshot, run, mode);
      for (const warning of warnings) out.write(`warning: ${warning}\n`);
      started();
    }
    result = await executors.pipelines.run(run, {
      signal,
      onEvent: (e) => {
        started().onEvent(e);
        if (e.type === 'config-drift') for (const line of driftLines(e)) started().log(e.blockUuid, line);
      },
      onLog: (block, line) => started().log(block, line.line),
    });
  } finally {
    view?.stop();
    await executors.close();
  }
  if (!view) out.write(header);
  out.write(`\n${summary(result)}`);
  if (args.timeline) {
    try {
      const upstream = Object.fromEntries(pipeline.blocks.map((b) => [b.uuid, b.upstream]));
      await writeFile(args.timeline, renderTimeline(result, { upstream }));
      out.write(`Timeline written to ${args.timeline}\n`);
    } catch (error) {
      // The run's outcome stands; only the chart is lost.
      out.write(
        `warning: could not write the timeline to ${args.timeline}: ${error instanceof Error ? error.message : String(error)}\n`,
      );
    }
  }
  return result.status === 'succeeded' ? 0 : 1;
}

/** What a `config-drift` event says, as lines above the progress rows. */
export function driftLines(event: ConfigDriftEvent): string[] {
  const what: Record<ConfigDriftEvent['action'], string> = {
    kept: `its outcome stands${event.earlier === 'succeeded' ? ' (--rerun-changed runs it again)' : ''}`,
    rerun: `run again as attempt ${event.attempt + 1}`,
    adopted: 'it is still running and is followed as it is',
    retried: `attempt ${event.attempt + 1} runs the config now`,
  };
  return [
    `warning: config changed since attempt ${event.attempt} (${event.earlier}, Job ${event.jobName}); ${what[event.action]}:`,
    ...event.changes.map((change) => `  ${change}`),
  ];
}

/** Throws a usage error unless `file` can be created or overwritten. */
async function checkWritable(file: string): Promise<void> {
  const dir = dirname(resolve(file));
  const folder = await stat(dir).catch(() => undefined);
  if (!folder?.isDirectory()) throw usageError(`--timeline: the directory "${dir}" does not exist`, 'run');
  const existing = await stat(file).catch(() => undefined);
  if (existing?.isDirectory()) throw usageError(`--timeline: "${file}" is a directory, not a file`, 'run');
  await access(existing ? file : dir, constants.W_OK).catch(() => {
    throw usageError(`--timeline: "${existing ? file : dir}" is not writable`, 'run');
  });
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
  return `${formatTable(['BLOCK', 'STATUS', 'ATTEMPTS', 'DURATION', 'REASON', 'MESSAGE'], rows, { maxCell: 80 })}${failures(result)}\nPipeline ${result.pipelineUuid} ${result.status.toUpperCase()} in ${wall} s: ${counts || 'no blocks'}\n`;
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
