import { stringify } from 'yaml';
import type { CliArgs } from './args.js';
import { prepareSelection } from './prepare-selection.js';

/** `render`: prints the Job. */
export async function renderCommand(args: CliArgs, env: Record<string, string | undefined>): Promise<string> {
  const prepared = await prepareSelection(args, env);
  return args.output === 'json'
    ? `${JSON.stringify(prepared.job, null, 2)}\n`
    : stringify(prepared.job, { lineWidth: 0 });
}
