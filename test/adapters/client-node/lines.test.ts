import { describe, expect, it } from 'vitest';
import { readLines } from '../../../src/adapters/client-node/lines.js';

function streamOf(...chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      controller.close();
    },
  });
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
    let pulls = 0;
    const broken = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (pulls++ === 0) controller.enqueue(bytes('a\npart'));
        else controller.error(new Error('socket closed'));
      },
    });
    await expect(readLines(broken, (l) => lines.push(l))).resolves.toBe('broken');
    expect(lines).toEqual(['a']);
  });

  it('rejects with the abort reason and cancels the stream', async () => {
    let cancelled = false;
    const endless = new ReadableStream<Uint8Array>({
      pull: () => new Promise(() => {}),
      cancel: () => {
        cancelled = true;
      },
    });
    const controller = new AbortController();
    const reading = readLines(endless, () => {}, controller.signal);
    controller.abort(new Error('stop'));
    await expect(reading).rejects.toThrow('stop');
    expect(cancelled).toBe(true);
  });

  it('rejects with what onLine throws', async () => {
    const reading = readLines(streamOf(bytes('bad\n')), () => {
      throw new Error('handler failed');
    });
    await expect(reading).rejects.toThrow('handler failed');
  });
});
