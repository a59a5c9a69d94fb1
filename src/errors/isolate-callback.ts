/** The user callbacks the SDK calls. */
export type CallbackName = 'onEvent' | 'onLog' | 'onDetected' | 'onHubEvent' | 'telemetry';

/** Receives a user callback's failure. @default a process warning `K8S_EXECUTOR_CALLBACK_THREW`, once per callback function and name */
export type CallbackErrorSink = (error: unknown, callback: CallbackName) => void;

/** The warning code of a callback that threw (see docs/errors.md). */
export const CALLBACK_WARNING_CODE = 'K8S_EXECUTOR_CALLBACK_THREW';

/**
 * Wraps a user callback so that it can never change an outcome: a throw (or the rejection of a
 * promise it returns) is caught and reported once, through `sink` or, by default, one process warning
 * `K8S_EXECUTOR_CALLBACK_THREW`. Later failures of the same callback are swallowed, so a callback that
 * throws on every log line does not flood the process with warnings. The SDK wraps a run's callbacks
 * once per run (an `execute()` call, a pipeline run): a `sink` hears once from each run; the default
 * warning is given once per function and name for the whole process, so one failing handler passed to
 * 10,000 `execute()` calls warns once (a new closure made for each call is a new function, and warns anew).
 */
export function isolateCallback<A extends unknown[]>(
  name: CallbackName,
  callback: ((...args: A) => unknown) | undefined,
  sink?: CallbackErrorSink,
): ((...args: A) => void) | undefined {
  if (!callback) return undefined;
  const report = callbackErrorReporter(name, sink, origins.get(callback) ?? callback);
  return (...args: A) => {
    try {
      const returned = callback(...args);
      if (isPromiseLike(returned)) returned.then(undefined, report);
    } catch (error) {
      report(error);
    }
  };
}

/**
 * The callbacks whose failure the default warning has reported, with the names they were passed as:
 * each function warns once per process for each name (one function given as `onEvent` and `onLog`
 * warns once for each).
 */
const warned = new WeakMap<object, Set<CallbackName>>();

/** The user's function behind an SDK wrapper of it (see {@link wrapping}). */
const origins = new WeakMap<object, unknown>();

/**
 * Marks `wrapper` as the SDK's wrapper of the user's `original` (it adds a span phase, say, then calls
 * it), so that their failures share the one default warning of `original`. Returns `wrapper`.
 */
export function wrapping<F extends object>(wrapper: F, original: unknown): F {
  if (original !== undefined) origins.set(wrapper, origins.get(original as object) ?? original);
  return wrapper;
}

/** Whether the default warning of `callback` as `name` was given already; marks it given. */
function warnedBefore(callback: unknown, name: CallbackName): boolean {
  // Only an object or function has an identity to remember (from JavaScript, a callback may be 42).
  if ((typeof callback !== 'object' && typeof callback !== 'function') || callback === null) return false;
  const names = warned.get(callback);
  if (names?.has(name)) return true;
  if (names) names.add(name);
  else warned.set(callback, new Set([name]));
  return false;
}

/**
 * Reports the failures of one user callback (or object): the first through `sink` (default: a warning,
 * unless `callback` gave one as `name` already, in an earlier run), later ones not.
 */
export function callbackErrorReporter(
  name: CallbackName,
  sink?: CallbackErrorSink,
  callback?: unknown,
): (error: unknown) => void {
  let reported = false;
  return (error: unknown) => {
    if (reported) return;
    reported = true;
    if (!sink && warnedBefore(callback, name)) return;
    try {
      if (sink) sink(error, name);
      else warnOnce(error, name);
    } catch {
      // The error sink failing as well leaves nothing to report to.
    }
  };
}

/**
 * What a thrown value says, for a message: an Error's message, anything else as a string; a
 * null-prototype object, a throwing `toString` or message getter, or a revoked Proxy say so instead.
 */
function printableMessage(error: unknown): string {
  try {
    return error instanceof Error ? String(error.message) : String(error);
  } catch {
    return 'a value that cannot be printed';
  }
}

function warnOnce(error: unknown, name: CallbackName): void {
  const message = printableMessage(error);
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
