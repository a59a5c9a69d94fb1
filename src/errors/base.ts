import type { ErrorCode } from './codes.js';

const BRAND = Symbol.for('k8s-executor.error');

/** Options shared by every {@link K8sExecutorError}. */
export interface K8sExecutorErrorOptions {
  /** The underlying error, kept for `--debug` output and logs. */
  cause?: unknown;
  /** What the user can do about it; appended to the message. */
  hint?: string;
}

/**
 * Base class of every error the SDK throws. `code` is stable and documented in `docs/errors.md`.
 * Use {@link isK8sExecutorError} rather than `instanceof`: the package ships ESM and CJS builds, and
 * two copies may be loaded at once.
 */
export class K8sExecutorError extends Error {
  /** The stable error code. */
  readonly code: ErrorCode;
  /** What the user can do about it, when known. */
  readonly hint: string | undefined;
  readonly [BRAND] = true;

  constructor(code: ErrorCode, message: string, options: K8sExecutorErrorOptions = {}) {
    super(options.hint ? `${message} ${options.hint}` : message, { cause: options.cause });
    this.name = 'K8sExecutorError';
    this.code = code;
    this.hint = options.hint;
  }
}

/** True when `e` is an error thrown by this SDK (any loaded copy of it). */
export function isK8sExecutorError(e: unknown): e is K8sExecutorError {
  return typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[BRAND] === true;
}
