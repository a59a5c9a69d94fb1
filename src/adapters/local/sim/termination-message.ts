import type { Pod } from '../../../types/kube.js';
import type { ContainerExit } from './pod-runner.js';

/** The kubelet reads at most this much of a container's termination message file (bytes). */
export const TERMINATION_MESSAGE_FILE_BYTES = 4096;
/** `FallbackToLogsOnError` takes at most this many of the last log lines... */
export const FALLBACK_LOG_LINES = 80;
/** ...and at most this many bytes of them. */
export const FALLBACK_LOG_BYTES = 2048;

/**
 * The termination message the kubelet reports in the container's terminated state: what the container
 * wrote (`exit.message`), cut to {@link TERMINATION_MESSAGE_FILE_BYTES}; when it wrote nothing, exited
 * with an error and its `terminationMessagePolicy` is `FallbackToLogsOnError`, the end of its log (at
 * most {@link FALLBACK_LOG_LINES} lines and {@link FALLBACK_LOG_BYTES} bytes). Undefined when empty.
 *
 * @param logTail the container's last {@link FALLBACK_LOG_LINES} log lines.
 */
export function terminationMessage(
  pod: Pod,
  exit: ContainerExit,
  logTail: () => readonly string[],
): string | undefined {
  const written = exit.message ?? '';
  if (written !== '') return cutBytes(written, TERMINATION_MESSAGE_FILE_BYTES, 'head');
  const policy = pod.spec?.containers[0]?.terminationMessagePolicy;
  if (exit.exitCode === 0 || policy !== 'FallbackToLogsOnError') return undefined;
  const tail = logTail().slice(-FALLBACK_LOG_LINES).join('\n');
  return tail === '' ? undefined : cutBytes(tail, FALLBACK_LOG_BYTES, 'tail');
}

/** The first (`head`) or last (`tail`) `max` bytes of `text` in UTF-8, never inside a character. */
function cutBytes(text: string, max: number, keep: 'head' | 'tail'): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= max) return text;
  const isContinuation = (i: number) => ((bytes[i] ?? 0) & 0xc0) === 0x80;
  if (keep === 'head') {
    let end = max;
    while (end > 0 && isContinuation(end)) end--;
    return bytes.subarray(0, end).toString('utf8');
  }
  let start = bytes.length - max;
  while (start < bytes.length && isContinuation(start)) start++;
  return bytes.subarray(start).toString('utf8');
}
