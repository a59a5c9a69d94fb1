import { explainConfig, type FieldOrigin } from '../config/index.js';
import type { CliArgs } from './args.js';
import { prepareSelection } from './prepare-selection.js';
import { formatTable, terminalWidth } from './table.js';

/**
 * `explain`: each resolved field with the layer, file and line that set it. On a terminal the table fits its
 * width (`columns`): long values wrap first, then sources, then field paths; none is ever cut. Piped, lines are as long as
 * the cells.
 */
export async function explainCommand(
  args: CliArgs,
  env: Record<string, string | undefined>,
  columns: number | undefined = terminalWidth(),
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
      sourceOf(r.origin),
    ]),
    { ...(columns !== undefined ? { width: columns } : {}), fit: [1, 3, 0] },
  );
  return `Job ${prepared.jobName} in namespace ${prepared.namespace}\n\n${table}`;
}

/** `file:line (user path)`; an override's flag as it was written (`--set cpu=4`). */
function sourceOf(origin: FieldOrigin): string {
  const { location, sourcePath } = origin;
  if (!location) return sourcePath ?? '';
  if (origin.layer === 'override') return location.file;
  const line = location.line !== undefined ? `:${location.line}` : '';
  return `${location.file}${line}${sourcePath ? ` (${sourcePath})` : ''}`;
}
