import { stat } from 'node:fs/promises';
import { version } from '../../package.json';
import { isK8sExecutorError } from '../errors/base.js';
import { type CliArgs, parseCliArgs, usageError } from './args.js';
import { helpText } from './commands.js';
import { explainCommand } from './explain.js';
import { preflightCommand } from './preflight.js';
import { renderCommand } from './render.js';
import { runCommand } from './run.js';
import { describeLoss, OutputGuard, type OutputLoss } from './safe-output.js';
import { validateCommand } from './validate.js';

/**
 * Exit codes of the CLI (docs/cli.md). A cancelled run exits as a shell reports a process ended by the
 * signal: 128 + its number (SIGHUP 129, SIGINT 130, SIGPIPE 141 for a closed stdout, SIGTERM 143).
 */
export const EXIT = {
  ok: 0,
  failed: 1,
  usage: 2,
  hangup: 129,
  cancelled: 130,
  outputClosed: 141,
  terminated: 143,
} as const;

/** The signals that cancel a run, and the exit code of each. */
const CANCEL_SIGNALS = { SIGHUP: EXIT.hangup, SIGINT: EXIT.cancelled, SIGTERM: EXIT.terminated } as const;

/**
 * Runs the CLI; returns the exit code: 0 ok, 1 run or validation failed, 2 usage or config error, 129,
 * 130, 141 or 143 cancelled (SIGHUP, SIGINT, stdout closed, SIGTERM).
 *
 * @param output reports a stdout or stderr that broke (a closed pipe): `run` then cancels.
 */
export async function main(
  argv: string[],
  env: Record<string, string | undefined> = process.env,
  output?: OutputGuard,
): Promise<number> {
  const debug = argv.includes('--debug');
  let command: string | undefined;
  try {
    const args = parseCliArgs(argv);
    command = args.command;
    if (args.version) {
      process.stdout.write(`k8s-executor ${version}\n`);
      return EXIT.ok;
    }
    if (args.help || args.command === 'help') {
      const topic = args.command === 'help' ? args.helpFor : args.command || undefined;
      process.stdout.write(`${helpText(topic)}\n`);
      return EXIT.ok;
    }
    if (args.command === '') {
      process.stderr.write(`${helpText()}\n`);
      return EXIT.usage;
    }
    checkRunIds(args);
    if (args.project !== undefined) await checkProjectDir(args.project, args.command);
    switch (args.command) {
      case 'render':
        process.stdout.write(await renderCommand(args, env));
        return EXIT.ok;
      case 'explain':
        process.stdout.write(await explainCommand(args, env));
        return EXIT.ok;
      case 'validate': {
        const { text, valid } = await validateCommand(args, env);
        (valid ? process.stdout : process.stderr).write(text);
        return valid ? EXIT.ok : EXIT.failed;
      }
      case 'run':
        return await withCancel((signal) => runCommand(args, env, process.stdout, signal), output);
      case 'preflight':
        return await preflightCommand(args, env, process.stdout);
      default:
        throw usageError(`unknown command "${args.command}"`);
    }
  } catch (error) {
    process.stderr.write(`${describe(error, debug, command)}\n`);
    return exitCodeOf(error);
  }
}

/**
 * Runs `run` with SIGINT, SIGTERM and SIGHUP (the terminal closed, an SSH session dropped), and a broken
 * stdout or stderr, turned into a cancel: the run deletes what it created. After the first cancel no
 * signal is caught: a second one ends the process at once.
 */
async function withCancel(
  run: (signal: AbortSignal) => Promise<number>,
  output: OutputGuard | undefined,
): Promise<number> {
  const controller = new AbortController();
  let cancelCode: number = EXIT.cancelled;
  const onSignal = (name: keyof typeof CANCEL_SIGNALS) => cancel(name, CANCEL_SIGNALS[name]);
  const names = Object.keys(CANCEL_SIGNALS) as (keyof typeof CANCEL_SIGNALS)[];
  let unwatch: (() => void) | undefined;
  const stopListening = () => {
    for (const name of names) process.off(name, onSignal);
    unwatch?.();
  };
  const cancel = (why: string, code: number) => {
    if (controller.signal.aborted) return;
    stopListening();
    cancelCode = code;
    process.stderr.write(`\n${why}: cancelling, deleting the Jobs this run created...\n`);
    controller.abort(new Error(`interrupted: ${why}`));
  };
  for (const name of names) process.on(name, onSignal);
  unwatch = output?.onLost((loss) => cancel(describeLoss(loss), exitCodeOfLoss(loss)));
  try {
    const code = await run(controller.signal);
    return controller.signal.aborted ? cancelCode : code;
  } finally {
    stopListening();
  }
}

/** 141 (128 + SIGPIPE) when the reader went away; 1 for any other write error (a full disk, say). */
function exitCodeOfLoss(loss: OutputLoss): number {
  return loss.code === 'EPIPE' ? EXIT.outputClosed : EXIT.failed;
}

/** An empty run id would give the Job a name without it (and every such run one identity). */
function checkRunIds(args: CliArgs): void {
  for (const [flag, value] of [
    ['--pipeline-run-id', args.pipelineRunId],
    ['--block-run-id', args.blockRunId],
  ] as const) {
    if (value !== undefined && value.trim() === '')
      throw usageError(
        `${flag} needs a run id, got "${value}" (the id the orchestrator assigned, such as 42)`,
        args.command,
      );
  }
}

/** A `--project` that is not a directory is named as such, before anything reads inside it. */
async function checkProjectDir(dir: string, command: string): Promise<void> {
  const found = await stat(dir).catch(() => undefined);
  if (!found) throw usageError(`--project: the directory "${dir}" does not exist`, command);
  if (!found.isDirectory())
    throw usageError(`--project: "${dir}" is a file, not a project directory`, command);
}

function describe(error: unknown, debug: boolean, command: string | undefined): string {
  if (debug && error instanceof Error) return error.stack ?? error.message;
  if (isK8sExecutorError(error)) {
    if (error.code !== 'NO_CLUSTER') return `error [${error.code}]: ${error.message}`;
    // The library's advice names its options; on the command line they are flags. Preflight asks a real
    // cluster: the local backend is no way out there.
    if (command === 'preflight')
      return `error [NO_CLUSTER]: ${error.message.replace(/;? or use the local backend \(run --local in the CLI\)/, '')}\nOn the command line: --kubeconfig FILE and --context NAME choose the cluster; preflight checks a real cluster: the local backend has nothing to check.`;
    return `error [NO_CLUSTER]: ${error.message}\nOn the command line: --kubeconfig FILE and --context NAME choose the cluster; --local needs none.`;
  }
  return `error: ${error instanceof Error ? error.message : String(error)}\n(run with --debug for the stack trace)`;
}

function exitCodeOf(error: unknown): number {
  if (isK8sExecutorError(error) && (error.code === 'USAGE' || error.code === 'CONFIG_INVALID'))
    return EXIT.usage;
  return EXIT.failed;
}

/** Runs the CLI on this process's arguments and sets its exit code (the bin, `main.ts`, calls this). */
export async function runFromArgv(): Promise<void> {
  const output = OutputGuard.install(process);
  try {
    const code = await main(process.argv.slice(2), process.env, output);
    // What was printed did not all arrive: not a success.
    process.exitCode = output.lost && code === EXIT.ok ? exitCodeOfLoss(output.lost) : code;
  } catch (error) {
    process.stderr.write(`${String(error)}\n`);
    process.exitCode = EXIT.failed;
  }
}
