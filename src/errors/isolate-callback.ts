/** The user callbacks the SDK calls. */
export type CallbackName = 'onEvent' | 'onLog' | 'onDetected' | 'onHubEvent' | 'telemetry';

/** Receives a user callback's failure. @default a process warning `K8S_EXECUTOR_CALLBACK_THREW`, once per callback */
export type CallbackErrorSink = (error: unknown, callback: CallbackName) => void;

/** The warning code of a callback that threw (see docs/errors.md). */
export const CALLBACK_WARNING_CODE = 'K8S_EXECUTOR_CALLBACK_THREW';

/**
 * Wraps a user callback so that it can never change an outcome: a throw (or the rejection of a
 * promise it returns) is caught and reported once, through `sink` or, by default, one process warning
 * `K8S_EXECUTOR_CALLBACK_THREW` per wrapped callback. Later failures of the same callback are swallowed,
 * so a callback that throws on every log line does not flood the process with warnings. The SDK wraps
 * a run's callbacks once per run (an `execute()` call, a pipeline run): the same failing function
 * passed to many runs is reported once by each.
 */
export function isolateCallback<A extends unknown[]>(
  name: CallbackName,
  callback: ((...args: A) => unknown) | undefined,
  sink?: CallbackErrorSink,
): ((...args: A) => void) | undefined {
  if (!callback) return undefined;
  const report = callbackErrorReporter(name, sink);
  return (...args: A) => {
    try {
      const returned = callback(...args);
      if (isPromiseLike(returned)) returned.then(undefined, report);
    } catch (error) {
      report(error);
    }
  };
}

/** Reports the failures of one user callback (or object): the first through `sink` (default: a warning), later ones not. */
export function callbackErrorReporter(
  name: CallbackName,
  sink?: CallbackErrorSink,
): (error: unknown) => void {
  let reported = false;
  return (error: unknown) => {
    if (reported) return;
    reported = true;
    try {
      if (sink) sink(error, name);
      else warnOnce(error, name);
    } catch {
      // The error sink failing as well leaves nothing to report to.
    }
  };
}

function warnOnce(error: unknown, name: CallbackName): void {
  let message: string;
  try {
    message = error instanceof Error ? String(error.message) : String(error);
  } catch {
    // A null-prototype object, a throwing toString or message getter, a revoked Proxy: still one warning.
    message = 'a value that cannot be printed';
  }
  process.emitWarning(
    `k8s-executor: the ${name} callback threw (${message}); the run goes on unchanged and later throws of this callback are not reported.`,
    { code: CALLBACK_WARNING_CODE },
  );
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function'
  );
}
