import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { CUT_MARK, MAX_LINE_LENGTH, readLines } from '../../../src/adapters/client-node/lines.js';

function streamOf(...chunks: Uint8Array[]): Readable {
  return Readable.from(chunks);
}

const bytes = (text: string) => new TextEncoder().encode(text);

describe('readLines', () => {
  it('joins lines and multi-byte characters split across chunks', async () => {
    const e = bytes('é'); // two bytes: C3 A9
    const lines: string[] = [];
    await readLines(
      streamOf(bytes('caf'), e.subarray(0, 1), e.subarray(1), bytes('\nsecond'), bytes(' line\r\n\nlast')),
      (l) => lines.push(l),
    );
    expect(lines).toEqual(['café', 'second line', '', 'last']);
  });

  it('does not invent a last line when the stream ends with a newline', async () => {
    const lines: string[] = [];
    await readLines(streamOf(bytes('a\nb\n')), (l) => lines.push(l));
    expect(lines).toEqual(['a', 'b']);
  });

  it("resolves 'closed' when the stream ends", async () => {
    await expect(readLines(streamOf(bytes('a\n')), () => {})).resolves.toBe('closed');
  });

  it("resolves 'broken' when the stream errors, after the complete lines (the cut-off one is dropped)", async () => {
    const lines: string[] = [];
    let reads = 0;
    const broken = new Readable({
      read() {
        if (reads++ === 0) this.push(bytes('a\npart'));
        else this.destroy(new Error('socket closed'));
      },
    });
    await expect(readLines(broken, (l) => lines.push(l))).resolves.toBe('broken');
    expect(lines).toEqual(['a']);
  });

  it('rejects with the abort reason and destroys the stream', async () => {
    const endless = new Readable({ read() {} });
    const controller = new AbortController();
    const reading = readLines(endless, () => {}, controller.signal);
    controller.abort(new Error('stop'));
    await expect(reading).rejects.toThrow('stop');
    expect(endless.destroyed).toBe(true);
  });

  it('rejects with the abort reason when the stream is destroyed with it first (as undici does)', async () => {
    const endless = new Readable({ read() {} });
    const controller = new AbortController();
    controller.signal.addEventListener('abort', () => endless.destroy(controller.signal.reason));
    const reading = readLines(endless, () => {}, controller.signal);
    controller.abort(new Error('stop'));
    await expect(reading).rejects.toThrow('stop');
  });

  /** A stream fed by the test, read by readLines from the start, with `text` pushed and read. */
  async function readingAfter(text: string) {
    const lines: string[] = [];
    const stream = new Readable({ read() {} });
    const reading = readLines(stream, (l) => lines.push(l));
    stream.push(bytes(text));
    await new Promise((resolve) => setImmediate(resolve));
    return { stream, lines, reading };
  }

  it("resolves 'broken' when the stream is destroyed before its end without an error", async () => {
    const { stream, lines, reading } = await readingAfter('whole\ncut-off');
    stream.destroy();
    await expect(reading).resolves.toBe('broken');
    expect(lines).toEqual(['whole']);
  });

  it('delivers each chunk as it arrives, before the stream ends', async () => {
    const { stream, lines, reading } = await readingAfter('first\n');
    expect(lines).toEqual(['first']);
    stream.push(null);
    await expect(reading).resolves.toBe('closed');
  });

  it("settles on a stream that ended or broke before it was handed over ('closed', 'broken')", async () => {
    const ended = Readable.from([bytes('a\n')]);
    ended.resume();
    await new Promise((resolve) => ended.once('close', resolve));
    await expect(readLines(ended, () => {})).resolves.toBe('closed');
    for (const error of [new Error('ECONNRESET'), undefined]) {
      const broken = new Readable({ read() {} });
      broken.on('error', () => {});
      broken.destroy(error);
      await new Promise((resolve) => broken.once('close', resolve));
      await expect(readLines(broken, () => {})).resolves.toBe('broken');
    }
  });

  it('stops at the line whose handler throws: the rest of its chunk is not delivered', async () => {
    const lines: string[] = [];
    const stream = new Readable({ read() {} });
    const reading = readLines(stream, (l) => {
      lines.push(l);
      if (l === 'b') throw new Error('boom');
    });
    stream.push(bytes('a\nb\nc\n'));
    await expect(reading).rejects.toThrow('boom');
    expect(lines).toEqual(['a', 'b']);
    expect(stream.destroyed).toBe(true);
  });

  it('rejects with what onLine throws', async () => {
    const reading = readLines(streamOf(bytes('bad\n')), () => {
      throw new Error('handler failed');
    });
    await expect(reading).rejects.toThrow('handler failed');
  });
});

/** `chunks` updates of ~100 bytes ending in `ending`: `\r` for a progress bar (tqdm, pip, curl), `\n` for plain lines. */
function chunkStream(chunks: number, ending: '\r' | '\n'): Readable {
  const enc = new TextEncoder();
  let i = 0;
  return new Readable({
    read() {
      if (i >= chunks) {
        this.push(null);
        return;
      }
      i++;
      this.push(
        enc.encode(`training: ${String(i).padStart(7)} it [${'#'.repeat(60)}] 3.2 it/s    ${ending}`),
      );
    },
  });
}

describe('readLines on a carriage-return progress bar (regression: repro readlines-cr-progress)', () => {
  /** The fastest of `rounds` interleaved runs of each case (noise only ever adds time). */
  async function fastest(cases: Record<string, () => Readable>, rounds = 3) {
    const best: Record<string, number> = {};
    let longest = 0;
    for (let round = 0; round < rounds; round++) {
      for (const [name, stream] of Object.entries(cases)) {
        const t = performance.now();
        await readLines(stream(), (l) => {
          longest = Math.max(longest, l.length);
        });
        best[name] = Math.min(best[name] ?? Number.POSITIVE_INFINITY, performance.now() - t);
      }
    }
    return { best, longest };
  }

  it('stays linear in the size of the stream, with a bounded partial line', async () => {
    const { best, longest } = await fastest({
      small: () => chunkStream(5_000, '\r'),
      large: () => chunkStream(20_000, '\r'),
      lines: () => chunkStream(20_000, '\n'),
    });
    // 4x the data costs about 4x the time (quadratic: 16x), and no more than plain lines of that size.
    expect(best.large! / best.small!).toBeLessThan(8);
    expect(best.large! / best.lines!).toBeLessThan(4);
    expect(longest).toBeLessThanOrEqual(MAX_LINE_LENGTH + CUT_MARK.length);
  }, 120_000);
});

describe('readLines: lines longer than MAX_LINE_LENGTH', () => {
  it('delivers a long line in marked pieces as they fill, and loses nothing', async () => {
    const text = Array.from({ length: 3 * MAX_LINE_LENGTH + 10 }, (_, i) =>
      String.fromCharCode(97 + (i % 26)),
    ).join('');
    const lines: string[] = [];
    const chunks = [];
    for (let at = 0; at < text.length; at += 1000) chunks.push(bytes(text.slice(at, at + 1000)));
    await readLines(streamOf(...chunks, bytes('\nnext\n')), (l) => lines.push(l));
    expect(lines.map((l) => l.length)).toEqual([
      MAX_LINE_LENGTH + CUT_MARK.length,
      MAX_LINE_LENGTH + CUT_MARK.length,
      MAX_LINE_LENGTH + CUT_MARK.length,
      10,
      4,
    ]);
    expect(lines.slice(0, 3).every((l) => l.endsWith(CUT_MARK))).toBe(true);
    expect(
      lines
        .slice(0, 4)
        .map((l) => (l.endsWith(CUT_MARK) ? l.slice(0, -CUT_MARK.length) : l))
        .join(''),
    ).toBe(text);
    expect(lines[4]).toBe('next');
  });

  it('delivers a line of exactly MAX_LINE_LENGTH whole, and strips its \\r\\n', async () => {
    const line = 'x'.repeat(MAX_LINE_LENGTH);
    const lines: string[] = [];
    await readLines(streamOf(bytes(`${line}\r\n`)), (l) => lines.push(l));
    expect(lines).toEqual([line]);
  });

  it('never splits a surrogate pair between two pieces', async () => {
    const emoji = '\u{1F600}';
    const text = `${'x'.repeat(MAX_LINE_LENGTH - 1)}${emoji}tail`;
    const lines: string[] = [];
    await readLines(streamOf(bytes(text)), (l) => lines.push(l));
    expect(lines).toEqual([`${'x'.repeat(MAX_LINE_LENGTH - 1)}${CUT_MARK}`, `${emoji}tail`]);
  });
});
