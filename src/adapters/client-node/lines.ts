import type { Readable } from 'node:stream';

/**
 * The longest log line delivered whole, in characters (UTF-16 code units; 64 KiB of ASCII). A longer
 * line (a `\r` progress bar that never prints `\n`, a minified JSON dump) is delivered in pieces of
 * this length, each but the last ending with {@link CUT_MARK}: memory stays bounded and nothing is lost.
 */
export const MAX_LINE_LENGTH = 65_536;

/** Appended to every piece of a line longer than the cap except its last. */
export const CUT_MARK = ' […]';

/** How a stream read by {@link readLines} ended: the server closed it, or the connection broke. */
export type StreamEnd = 'closed' | 'broken';

/**
 * Reads a byte stream as lines: calls `onLine` for each line (without `\n` or `\r\n`), in order, with
 * lines split across chunks (and multi-byte characters split across chunks) joined correctly. A last
 * line without a newline is delivered when the server ends the stream. Linear in the input: each chunk
 * is scanned once, and the partial line is kept as a list of pieces joined only when its line ends. A
 * line longer than `maxLineLength` is delivered in marked pieces as soon as each piece is full. Each
 * chunk is read as it arrives (the stream flows; its lines are handled in the microtask right after,
 * before any further I/O, so nothing piles up ahead of `onLine`).
 *
 * Resolves `'closed'` when the stream ends and `'broken'` when it fails or is destroyed before its end
 * (the connection dropped): every complete line before the break has been delivered, the cut-off text
 * after the last newline has not (it is incomplete; a follow resumed with `sinceTime` gets it whole).
 * Rejects with `signal.reason` when the signal aborts, and with whatever `onLine` throws (the stream is
 * destroyed first in both cases).
 */
export function readLines(
  stream: Readable,
  onLine: (line: string) => void,
  signal?: AbortSignal,
  maxLineLength: number = MAX_LINE_LENGTH,
): Promise<StreamEnd> {
  return new Promise<StreamEnd>((resolve, reject) => {
    const decoder = new TextDecoder();
    const line = new PartialLine(onLine, maxLineLength);
    // What the stream emitted and is not handled yet, in order: chunks, then how it ended.
    let pending: (Uint8Array | StreamEnd)[] = [];
    let scheduled = false;
    let settled = false;
    const settle = (end: () => void) => {
      if (settled) return;
      settled = true;
      pending = [];
      signal?.removeEventListener('abort', aborted);
      // The stream's listeners stay: they do nothing once settled, and an error the stream emits
      // later (undici destroys the body with the abort reason) must still find a listener.
      end();
    };
    const fail = (error: unknown) =>
      settle(() => {
        stream.destroy();
        reject(error);
      });
    const aborted = () => fail(signal?.reason);
    const handle = (item: Uint8Array | StreamEnd) => {
      if (item === 'closed') {
        line.flush(decoder.decode());
        settle(() => resolve('closed'));
      } else if (item === 'broken') {
        // The unterminated last line of a broken stream is incomplete: it is dropped, and a follow
        // resumed with `sinceTime` gets it whole.
        if (signal?.aborted) aborted();
        else settle(() => resolve('broken'));
      } else {
        line.push(decoder.decode(item, { stream: true }));
      }
    };
    // Handled in a microtask, never inside the stream's own event: undici emits a body's data from
    // within its HTTP parser, and a line handler that stops the stream there (an ERROR event, an
    // abort) would tear the request down under the parser. A microtask still runs before any I/O.
    const drain = () => {
      scheduled = false;
      const items = pending;
      pending = [];
      try {
        for (const item of items) {
          if (settled) return;
          handle(item);
        }
      } catch (error) {
        fail(error);
      }
    };
    const enqueue = (item: Uint8Array | StreamEnd) => {
      if (settled) return;
      pending.push(item);
      if (scheduled) return;
      scheduled = true;
      queueMicrotask(drain);
    };
    if (signal?.aborted) {
      aborted();
      return;
    }
    signal?.addEventListener('abort', aborted, { once: true });
    // A stream that ended or broke before it was handed over emits nothing more.
    if (stream.readableEnded) enqueue('closed');
    else if (stream.destroyed) enqueue('broken');
    stream
      .on('data', (chunk: Uint8Array) => enqueue(chunk))
      .once('end', () => enqueue('closed'))
      .once('error', () => enqueue('broken'))
      .once('close', () => enqueue(stream.readableEnded ? 'closed' : 'broken'));
  });
}

/** The text after the last newline, kept as pieces (never re-concatenated per chunk). */
class PartialLine {
  private pieces: string[] = [];
  private length = 0;

  constructor(
    private readonly onLine: (line: string) => void,
    private readonly max: number,
  ) {}

  /** Adds decoded text, delivering every line it completes. */
  push(text: string): void {
    let start = 0;
    for (let newline = text.indexOf('\n'); newline !== -1; newline = text.indexOf('\n', start)) {
      this.append(text.slice(start, newline));
      this.end();
      start = newline + 1;
    }
    if (start < text.length) this.append(text.slice(start));
  }

  /** Adds the last text of the stream and delivers the unterminated last line, if any. */
  flush(text: string): void {
    this.push(text);
    if (this.length > 0) this.end();
  }

  private append(text: string): void {
    if (text === '') return;
    if (this.fits(this.length + text.length, text)) {
      this.pieces.push(text);
      this.length += text.length;
      return;
    }
    // Longer than the cap: deliver full pieces now (a join per cut, so still linear), keep the rest.
    const all = this.take() + text;
    let at = 0;
    while (!this.fits(all.length - at, all)) {
      let end = at + this.max;
      // Never split a surrogate pair between two pieces.
      if (isHighSurrogate(all.charCodeAt(end - 1))) end--;
      this.onLine(all.slice(at, end) + CUT_MARK);
      at = end;
    }
    this.append(all.slice(at));
  }

  /**
   * Whether a partial line of `length` characters ending like `text` may wait for its newline: up to
   * the cap, plus a final `\r` that a `\n` may follow (a line of exactly the cap ending in `\r\n` is whole).
   */
  private fits(length: number, text: string): boolean {
    return length <= this.max || (length === this.max + 1 && text.endsWith('\r'));
  }

  private end(): void {
    const text = this.take();
    this.onLine(text.endsWith('\r') ? text.slice(0, -1) : text);
  }

  private take(): string {
    const text = this.pieces.length === 1 ? this.pieces[0]! : this.pieces.join('');
    this.pieces = [];
    this.length = 0;
    return text;
  }
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}
