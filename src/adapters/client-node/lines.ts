/**
 * Reads a byte stream as lines: calls `onLine` for each line (without `\n` or `\r\n`), in order, with
 * lines split across chunks (and multi-byte characters split across chunks) joined correctly. A last
 * line without a newline is delivered when the stream ends.
 *
 * Resolves when the stream ends, normally or because the connection broke (the caller resumes either
 * way). Rejects with `signal.reason` when the signal aborts, and with whatever `onLine` throws (the
 * stream is cancelled first).
 */
export async function readLines(
  stream: ReadableStream<Uint8Array>,
  onLine: (line: string) => void,
  signal?: AbortSignal,
): Promise<void> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  const cancel = () => void reader.cancel(signal?.reason).catch(() => undefined);
  signal?.addEventListener('abort', cancel, { once: true });
  let pending = '';
  const emit = (text: string) => {
    const parts = (pending + text).split('\n');
    pending = parts.pop() ?? '';
    for (const part of parts) onLine(part.endsWith('\r') ? part.slice(0, -1) : part);
  };
  try {
    for (;;) {
      // A dropped connection (a read that fails) ends the stream like a server close.
      const chunk = await reader.read().then(
        (result) => result,
        () => undefined,
      );
      if (signal?.aborted) throw signal.reason;
      if (chunk === undefined || chunk.done) break;
      emit(decoder.decode(chunk.value, { stream: true }));
    }
    emit(decoder.decode());
    if (pending !== '') onLine(pending.endsWith('\r') ? pending.slice(0, -1) : pending);
  } catch (e) {
    cancel();
    throw e;
  } finally {
    signal?.removeEventListener('abort', cancel);
  }
}
