import { isFailedPod, newestPod, type PodRecord } from '../monitor/pod-summary.js';
import type { BlockState } from '../monitor/types.js';
import type { BlockDetection } from './types.js';

/**
 * The most of a termination message a result keeps, in UTF-8 bytes: Kubernetes' own bound per
 * container (the kubelet reads at most this much of the file; all containers of a pod share 12 KiB).
 */
export const TERMINATION_MESSAGE_MAX_BYTES = 4096;

/** The result fields that come from the block container's termination message. */
export type TerminationFields = Pick<BlockDetection, 'terminationMessage' | 'output' | 'outputError'>;

/**
 * The pod whose termination message is the block's: the succeeded pod of a success, the last failed
 * pod of a failure (else the newest pod).
 */
export function outcomePod(state: BlockState): PodRecord | undefined {
  const pods: PodRecord[] = Object.values(state.pods);
  if (state.phase === 'failed') {
    const failed = newestPod(pods.filter(isFailedPod));
    if (failed) return failed;
  }
  return state.currentPod ? state.pods[state.currentPod] : undefined;
}

/** Whether the block container's end has been seen in the pod that decides the outcome. */
export function terminationSeen(state: BlockState, container: string): boolean {
  return outcomePod(state)?.terminated?.containerName === container;
}

/**
 * The termination message of the block's container (`container`: an init container's message is not
 * the block's) and, for a success, the `output` it parses to. Kubernetes gives the message as the
 * container wrote it; surrounding whitespace is dropped (`echo` adds a newline), and a message longer
 * than {@link TERMINATION_MESSAGE_MAX_BYTES} (no kubelet gives one) is cut to that bound.
 */
export function terminationFields(state: BlockState, container: string): TerminationFields {
  const terminated = outcomePod(state)?.terminated;
  if (terminated?.containerName !== container) return {};
  const raw = terminated.message?.trim() ?? '';
  if (raw === '') return {};
  const message = cutToBytes(raw, TERMINATION_MESSAGE_MAX_BYTES);
  if (state.phase !== 'succeeded') return { terminationMessage: message };
  return { terminationMessage: message, ...parsedOutput(message, message.length < raw.length) };
}

/** The message as JSON; an `outputError` for one that looks like a JSON document and does not parse. */
function parsedOutput(message: string, cut: boolean): Pick<BlockDetection, 'output' | 'outputError'> {
  try {
    return { output: JSON.parse(message) as unknown };
  } catch (error) {
    if (!message.startsWith('{') && !message.startsWith('[')) return {};
    const why = error instanceof Error ? error.message : String(error);
    const hint = cut
      ? `it was longer than ${TERMINATION_MESSAGE_MAX_BYTES} bytes and was cut`
      : `a termination message holds at most ${TERMINATION_MESSAGE_MAX_BYTES} bytes: write less, and only the JSON document`;
    return { outputError: `The termination message is not valid JSON (${why}); ${hint}.` };
  }
}

/** `text` cut to at most `max` UTF-8 bytes, never inside a character. */
function cutToBytes(text: string, max: number): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= max) return text;
  let end = max;
  // Back up to the first byte of a character (continuation bytes are 10xxxxxx).
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end).toString('utf8');
}
