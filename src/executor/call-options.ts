import { K8sExecutorError } from '../errors/base.js';

/** What one option of a call must be, when it is given: checked before the call holds anything. */
export type OptionKind = 'function' | 'signal' | 'object' | 'boolean' | 'any';

/**
 * The options of one call, read once (own or inherited: a class instance's methods count, and are
 * called as plain functions, without `this`, as every callback is), each checked against its kind. A
 * getter that throws, or an option of the wrong kind (a callback that is not a function, a signal
 * that is not an `AbortSignal`, a catch-all Proxy that answers every key), fails the call with one
 * `INVALID_ARGUMENT` naming every such option, before it holds a submission slot or sends a request.
 * `undefined` is an option not given; `null` for the whole options object is none (from JavaScript).
 * @throws K8sExecutorError `INVALID_ARGUMENT`
 */
export function readCallOptions<T extends object>(
  call: string,
  given: T | null | undefined,
  kinds: { readonly [K in keyof T]-?: OptionKind },
): T {
  if (given === null || given === undefined) return {} as T;
  if (typeof given !== 'object') {
    throw invalid(call, [`the options must be an object (got ${describe(given)})`]);
  }
  const options: Partial<Record<keyof T, unknown>> = {};
  const problems: string[] = [];
  for (const key of Object.keys(kinds) as (keyof T & string)[]) {
    const value = given[key];
    if (value === undefined) continue;
    const kind = kinds[key];
    if (!fits(value, kind)) problems.push(`${key} must be ${EXPECTED[kind]} (got ${describe(value)})`);
    else options[key] = value;
  }
  if (problems.length > 0) throw invalid(call, problems);
  return options as T;
}

const EXPECTED: Record<OptionKind, string> = {
  function: 'a function',
  signal: 'an AbortSignal',
  object: 'an object',
  boolean: 'true or false',
  any: 'any value',
};

function fits(value: unknown, kind: OptionKind): boolean {
  switch (kind) {
    case 'function':
      return typeof value === 'function';
    case 'signal':
      // Another realm's (or a polyfill's) AbortSignal is accepted by its shape.
      return (
        value instanceof AbortSignal ||
        (typeof value === 'object' &&
          value !== null &&
          typeof (value as AbortSignal).aborted === 'boolean' &&
          typeof (value as AbortSignal).addEventListener === 'function' &&
          typeof (value as AbortSignal).removeEventListener === 'function')
      );
    case 'object':
      return typeof value === 'object' && value !== null;
    case 'boolean':
      return typeof value === 'boolean';
    case 'any':
      return true;
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : typeof value;
}

function invalid(call: string, problems: string[]): K8sExecutorError {
  return new K8sExecutorError('INVALID_ARGUMENT', `${call}: ${problems.join('; ')}.`, {
    hint: 'Pass the options their documented types (or leave them out); nothing was run.',
  });
}
