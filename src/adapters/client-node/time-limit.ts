/**
 * A signal that aborts when `signal` does, or with a `TimeoutError` (as `AbortSignal.timeout`'s) once
 * `ms` have passed; `dispose()` stops both as soon as the request is over.
 *
 * Not `AbortSignal.any([signal, AbortSignal.timeout(ms)])`: that pair stays reachable from its timer
 * until the time limit is over even when the request took a millisecond (about 0.8 KiB per request,
 * kept 30 s: thousands at once when hundreds of Jobs are created per second).
 */
export function timeLimit(ms: number, signal?: AbortSignal): { signal: AbortSignal; dispose(): void } {
  const limit = new AbortController();
  if (signal?.aborted) {
    limit.abort(signal.reason);
    return { signal: limit.signal, dispose: () => undefined };
  }
  const onAbort = () => limit.abort(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  const timer = setTimeout(
    () => limit.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError')),
    ms,
  );
  // Like AbortSignal.timeout's, the timer alone does not keep the process alive.
  timer.unref?.();
  return {
    signal: limit.signal,
    dispose: () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    },
  };
}
