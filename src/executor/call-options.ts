import { K8sExecutorError } from '../errors/base.js';

/** What one option of a call must be, when it is given: checked before the call holds anything. */
export type OptionKind = 'function' | 'signal' | 'object' | 'boolean';

/**
 * The options of one call, read once (own or inherited: a class instance's methods count, and are
 * called as plain functions, without `this`, as every callback is), each checked against its kind. A
 * getter that throws, or an option of the wrong kind (a callback that is not a function, a signal
 * that is not Node's `AbortSignal`, a catch-all Proxy that answers every key), fails the call with one
 * `INVALID_ARGUMENT` naming every such option, before it holds a submission slot or sends a request.
 * `undefined` and `null` are an option not given (from JavaScript), and so is `null` for the whole
 * options object.
 * @throws K8sExecutorError `INVALID_ARGUMENT`
 */
export function readCallOptions<T extends object>(
  call: string,
  given: T | null | undefined,
  kinds: { readonly [K in keyof T]-?: OptionKind },
): T {
  if (given === null || given === undefined) return {} as T;
  if (typeof given !== 'object') {
    throw invalid(call, [`the options must be an object (got ${describe(given)})`], undefined);
  }
  const options: Partial<Record<keyof T, unknown>> = {};
  const problems: string[] = [];
  let cause: { error: unknown } | undefined;
  for (const key of Object.keys(kinds) as (keyof T & string)[]) {
    let value: unknown;
    try {
      value = given[key];
    } catch (error) {
      // Its message may hold anything: the first such error is the cause, not part of this message.
      const first = cause === undefined;
      cause ??= { error };
      problems.push(
        `${key} could not be read (reading it threw${first ? "; that error is this error's cause" : ''})`,
      );
      continue;
    }
    if (value === undefined || value === null) continue; // from JavaScript, null is an option not given too
    const kind = kinds[key];
    const problem = problemOf(value, kind);
    if (problem) problems.push(`${key} must be ${EXPECTED[kind]} (got ${problem})`);
    else options[key] = value;
  }
  if (problems.length > 0) throw invalid(call, problems, cause);
  return options as T;
}

const EXPECTED: Record<OptionKind, string> = {
  function: 'a function',
  signal: 'an AbortSignal',
  object: 'an object',
  boolean: 'true or false',
};

/** What is wrong with `value` as a `kind` (what it is instead), or undefined when it fits. */
function problemOf(value: unknown, kind: OptionKind): string | undefined {
  try {
    return fits(value, kind) ? undefined : describe(value);
  } catch {
    return 'a value that cannot be inspected'; // a revoked Proxy: even instanceof throws
  }
}

function fits(value: unknown, kind: OptionKind): boolean {
  switch (kind) {
    case 'function':
      return typeof value === 'function';
    case 'signal':
      return isNodeAbortSignal(value);
    case 'object':
      // A revoked Proxy is an object, and throws here: `problemOf` names it.
      return typeof value === 'object' && value !== null && Reflect.getPrototypeOf(value) !== undefined;
    case 'boolean':
      return typeof value === 'boolean';
  }
}

const abortedOf = Object.getOwnPropertyDescriptor(AbortSignal.prototype, 'aborted')?.get;

/**
 * Node's own AbortSignal only, by its brand (`aborted` read through the prototype's getter), not by
 * `instanceof`, which an `Object.create(AbortSignal.prototype)` passes: a run combines the signal with
 * others (`AbortSignal.any`), which refuses anything else, and listens to it.
 */
function isNodeAbortSignal(value: unknown): boolean {
  try {
    abortedOf?.call(value);
    return abortedOf !== undefined;
  } catch {
    return false;
  }
}

/** A value's kind, for a message: never the value itself (it may be a secret). */
function describe(value: unknown): string {
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : typeof value;
}

/** `cause` boxed: a getter may throw `undefined`, and that is still the cause. */
function invalid(call: string, problems: string[], cause: { error: unknown } | undefined): K8sExecutorError {
  return new K8sExecutorError('INVALID_ARGUMENT', `${call}: ${problems.join('; ')}.`, {
    hint: 'Pass the options their documented types (or leave them out); nothing was run.',
    ...(cause ? { cause: cause.error } : {}),
  });
}
