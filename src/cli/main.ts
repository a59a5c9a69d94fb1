#!/usr/bin/env node
import { isK8sExecutorError } from '../errors/base.js';
import { HELP, parseCliArgs, usageError } from './args.js';
import { explainCommand } from './explain.js';
import { renderCommand } from './render.js';
import { runCommand } from './run.js';
import { validateCommand } from './validate.js';

/** Runs the CLI; returns the exit code: 0 ok, 1 run or validation failed, 2 usage or config error. */
export async function main(
  argv: string[],
  env: Record<string, string | undefined> = process.env,
): Promise<number> {
  const debug = argv.includes('--debug');
  const controller = new AbortController();
  const onSignal = () => {
    process.stderr.write('\nCancelling: deleting the Jobs this run created...\n');
    controller.abort(new Error('interrupted'));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const args = parseCliArgs(argv);
    if (args.help || args.command === '' || args.command === 'help') {
      process.stdout.write(`${HELP}\n`);
      return args.command === '' && !args.help ? 2 : 0;
    }
    switch (args.command) {
      case 'render':
        process.stdout.write(await renderCommand(args, env));
        return 0;
      case 'explain':
        process.stdout.write(await explainCommand(args, env));
        return 0;
      case 'validate': {
        const { text, valid } = await validateCommand(args, env);
        (valid ? process.stdout : process.stderr).write(text);
        return valid ? 0 : 1;
      }
      case 'run':
        return await runCommand(args, env, process.stdout, controller.signal);
      default:
        throw usageError(`Unknown command "${args.command}".`);
    }
  } catch (error) {
    process.stderr.write(`${describe(error, debug)}\n`);
    return exitCodeOf(error);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function describe(error: unknown, debug: boolean): string {
  if (debug && error instanceof Error) return error.stack ?? error.message;
  if (isK8sExecutorError(error)) return `error [${error.code}]: ${error.message}`;
  return `error: ${error instanceof Error ? error.message : String(error)}\n(run with --debug for the stack trace)`;
}

function exitCodeOf(error: unknown): number {
  if (isK8sExecutorError(error) && (error.code === 'USAGE' || error.code === 'CONFIG_INVALID')) return 2;
  return 1;
}

const invokedDirectly =
  process.argv[1] !== undefined && /(?:cli[\\/]main|k8s-executor)(?:\.[cm]?js)?$/.test(process.argv[1]);
if (invokedDirectly) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`${String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
