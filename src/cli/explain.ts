import { explainConfig } from '../config/index.js';
import type { CliArgs } from './args.js';
import { prepareSelection } from './prepare-selection.js';
import { formatTable } from './table.js';

/**
 * `explain`: each resolved field with the layer, file and line that set it. On a terminal the table fits its
 * width (`columns`: long values and sources are cut with an ellipsis); piped, nothing is cut.
 */
export async function explainCommand(
  args: CliArgs,
  env: Record<string, string | undefined>,
  columns: number | undefined = process.stdout.isTTY ? process.stdout.columns : undefined,
): Promise<string> {
  const prepared = await prepareSelection(args, env);
  const rows = explainConfig(prepared.resolved);
  if (args.output === 'json')
    return `${JSON.stringify({ jobName: prepared.jobName, fields: rows }, null, 2)}\n`;
  const table = formatTable(
    ['FIELD', 'VALUE', 'LAYER', 'SOURCE'],
    rows.map((r) => [
      r.path,
      typeof r.value === 'string' ? r.value : JSON.stringify(r.value),
      r.origin.layer,
      r.origin.location
        ? `${r.origin.location.file}${r.origin.location.line !== undefined ? `:${r.origin.location.line}` : ''}${r.origin.sourcePath ? ` (${r.origin.sourcePath})` : ''}`
        : (r.origin.sourcePath ?? ''),
    ]),
    columns === undefined ? undefined : Math.max(16, Math.min(60, Math.floor(columns / 3))),
  );
  const fitted = columns === undefined ? table : table.replace(/^.*$/gm, (line) => cutToWidth(line, columns));
  return `Job ${prepared.jobName} in namespace ${prepared.namespace}\n\n${fitted}`;
}

/** The line, cut with an ellipsis to at most `width` characters. */
function cutToWidth(line: string, width: number): string {
  return line.length <= width ? line : `${line.slice(0, Math.max(1, width - 1))}…`;
}
