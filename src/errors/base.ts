import type { ErrorCode } from './codes.js';

const BRAND = Symbol.for('k8s-executor.error');

/** Options shared by every {@link K8sExecutorError}. */
export interface K8sExecutorErrorOptions {
  /** The underlying error, kept for `--debug` output and logs. */
  cause?: unknown;
  /** What the user can do about it; appended to the message. */
  hint?: string;
  /** The Job the SDK left running on purpose when it threw this error (see {@link K8sExecutorError.jobLeftRunning}). */
  jobLeftRunning?: JobLeftRunning;
}

/** A Job that was left running on purpose: it may still finish. */
export interface JobLeftRunning {
  /** The Job's namespace. */
  namespace: string;
  /** The Job's name. */
  name: string;
  /** The Job's uid, when known (delete with it as a precondition, so another Job of the name is left alone). */
  uid?: string;
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
  /**
   * Set when the run's Job was left running on purpose as this error was thrown (its namespace could no
   * longer be observed, or the executor was closed): it may still finish. Executing the same block run
   * again adopts it; deleting it is the caller's choice. The SDK never deletes it afterwards.
   */
  readonly jobLeftRunning: JobLeftRunning | undefined;
  /** Brand, read by {@link isK8sExecutorError}. */
  readonly [BRAND] = true;

  constructor(code: ErrorCode, message: string, options: K8sExecutorErrorOptions = {}) {
    super(options.hint ? `${message} ${options.hint}` : message, { cause: options.cause });
    this.name = 'K8sExecutorError';
    this.code = code;
    this.hint = options.hint;
    this.jobLeftRunning = options.jobLeftRunning;
  }
}

/** True when `e` is an error thrown by this SDK (any loaded copy of it). */
export function isK8sExecutorError(e: unknown): e is K8sExecutorError {
  return typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[BRAND] === true;
}
