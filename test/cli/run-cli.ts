import { vi } from 'vitest';
import { main } from '../../src/cli/cli.js';
import type { OutputGuard } from '../../src/cli/safe-output.js';

/**
 * Runs the CLI in-process with stdout and stderr captured; `onOutput` sees stdout as it grows; `output`
 * plays the process's guard of its streams.
 */
export async function cli(
  argv: string[],
  env: Record<string, string | undefined> = {},
  onOutput?: (stdout: string) => void,
  output?: OutputGuard,
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    stdout += String(chunk);
    onOutput?.(stdout);
    return true;
  });
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    stderr += String(chunk);
    return true;
  });
  try {
    const code = await main(argv, env, output);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}
