/**
 * Cuts a text stream into lines: `\n` or `\r\n` ends a line; what is left at the end of the stream is
 * the last line (output without a trailing newline is not lost).
 */
export class LineSplitter {
  private pending = '';

  /** The complete lines in `chunk` (with what was left from earlier chunks), without line endings. */
  push(chunk: string): string[] {
    const parts = (this.pending + chunk).split('\n');
    this.pending = parts.pop() ?? '';
    return parts.map(stripCarriageReturn);
  }

  /** The unterminated last line, if any. */
  flush(): string[] {
    const rest = this.pending;
    this.pending = '';
    return rest === '' ? [] : [stripCarriageReturn(rest)];
  }
}

function stripCarriageReturn(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}
