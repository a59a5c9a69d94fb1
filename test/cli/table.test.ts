import { describe, expect, it } from 'vitest';
import { formatTable, terminalWidth } from '../../src/cli/table.js';

const rows = [
  ['container.image', 'registry.example/team/etl:2024-05-01-abcdef', 'project', 'metadata.yaml:3'],
  [
    'container.command',
    '["sh","-c","python -m etl.run --date {{ pipeline_run_id }} --verbose"]',
    'block',
    'pipelines/etl/metadata.yaml:12 (executor_config.container.command)',
  ],
];
const header = ['FIELD', 'VALUE', 'LAYER', 'SOURCE'];

describe('formatTable', () => {
  it('is as wide as its cells without a width', () => {
    const lines = formatTable(header, rows, { fit: 1 }).trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[2]).toContain('--verbose"]');
  });

  it('wraps the fit column to the width and never cuts the source column', () => {
    const text = formatTable(header, rows, { width: 120, fit: 1 });
    const lines = text.trimEnd().split('\n');
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(120);
    expect(text).toContain('pipelines/etl/metadata.yaml:12 (executor_config.container.command)');
    // The row's first line keeps every column; the rest of the value goes on the lines below.
    const first = lines.find((l) => l.startsWith('container.command'))!;
    expect(first).toMatch(/block\s+pipelines\/etl\/metadata\.yaml:12/);
    const value = lines
      .slice(lines.indexOf(first))
      .map((l) =>
        l
          .slice('container.command  '.length)
          .split(/\s{2,}/)[0]!
          .trim(),
      )
      .join(' ');
    expect(value.replace(/\s/g, '')).toBe(rows[1]![1]!.replace(/\s/g, ''));
  });

  it('wraps the next fit column once the first is at its minimum, keeping its text whole', () => {
    const text = formatTable(header, rows, { width: 90, fit: [1, 3] });
    const lines = text.trimEnd().split('\n');
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(90);
    const sourceStart = lines[0]!.indexOf('SOURCE');
    const source = lines
      .slice(lines.findIndex((l) => l.startsWith('container.command')))
      .map((l) => l.slice(sourceStart).trim())
      .filter((part) => part !== '')
      .join(' ');
    expect(source).toBe('pipelines/etl/metadata.yaml:12 (executor_config.container.command)');
  });

  it('keeps a readable minimum for the fit column: past it, lines overflow instead of cutting another column', () => {
    const text = formatTable(header, rows, { width: 40, fit: 1 });
    expect(text).toContain('pipelines/etl/metadata.yaml:12 (executor_config.container.command)');
    expect(text).toContain('container.command');
  });

  it('cuts long cells of other columns at maxCell', () => {
    const text = formatTable(['A', 'B'], [['x'.repeat(100), 'last column stays whole '.repeat(5)]], {
      maxCell: 10,
    });
    expect(text).toContain(`${'x'.repeat(9)}…`);
    expect(text).toContain('last column stays whole '.repeat(5).trimEnd());
  });
});

describe('terminalWidth', () => {
  it('is the columns of a terminal, and nothing for a pipe', () => {
    expect(terminalWidth({ isTTY: true, columns: 100 })).toBe(100);
    expect(terminalWidth({ isTTY: false, columns: 100 })).toBeUndefined();
    expect(terminalWidth({})).toBeUndefined();
  });
});
