import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const REGISTER = fileURLToPath(new URL('./register.mjs', import.meta.url));
const MAIN = fileURLToPath(new URL('../../../src/cli/main.ts', import.meta.url));

/**
 * Starts the CLI from the sources (no build needed) as its own process, on this Node (>= 23.6: type
 * stripping), for what only a real process shows: signals, a closed stdout, the exit code.
 */
export function spawnCli(
  argv: string[],
  env: Record<string, string | undefined> = {},
): ChildProcessWithoutNullStreams {
  return spawn(
    process.execPath,
    ['--experimental-transform-types', '--no-warnings', '--import', REGISTER, MAIN, ...argv],
    { env: { ...process.env, ...env } },
  );
}
