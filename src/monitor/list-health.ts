import { ApiError } from '../errors/api-error.js';
import { isK8sExecutorError, K8sExecutorError } from '../errors/base.js';

/** Why the follows of a namespace are told that nothing can be observed. */
export type Unlistable = 'first-list' | 'bound';

/**
 * Whether one resource (Jobs or Pods) of one namespace can be listed, remembered across the hub's
 * sessions. client-go's reflector retries a failed list forever with a backoff; so do we, with two
 * exceptions where waiting is pointless:
 *
 * - the resource was never listed and the answer is one retrying cannot fix (401, 403, 404): RBAC or
 *   the namespace is missing, fail fast;
 * - it was listable, and every list since `unlistableAfterMs` ago was refused that way (with
 *   transient failures in between): a credential or Role that stays broken.
 *
 * A single refused list of a listable namespace (a token at its expiry edge, an authenticator hiccup,
 * a RoleBinding re-applied by GitOps) is only retried. Transient failures (5xx, 429, network) never
 * count: the API server being down is waited out.
 */
export class ListHealth {
  private listable = false;
  private refusedSince: number | undefined;

  /** @param unlistableAfterMs how long a listable resource may be refused before its follows fail. */
  constructor(private readonly unlistableAfterMs: number) {}

  /** A list worked: the resource is listable, any run of refusals is over. */
  listed(): void {
    this.listable = true;
    this.refusedSince = undefined;
  }

  /**
   * The watch delivered (an event or a bookmark): access works, so a run of refused lists is over,
   * though the resource is not known to be listable.
   */
  observed(): void {
    this.refusedSince = undefined;
  }

  /**
   * A list failed with `error` at `now`: whether (and why) the follows must now be told that nothing
   * can be observed; undefined when the list is just retried.
   */
  failed(error: unknown, now: number): Unlistable | undefined {
    if (isTransient(error)) return undefined;
    if (!this.listable) return 'first-list';
    this.refusedSince ??= now;
    return now - this.refusedSince >= this.unlistableAfterMs ? 'bound' : undefined;
  }
}

/** Whether retrying later can help: yes for 5xx, 429 and network failures, not for 401/403/404/422. */
export function isTransient(error: unknown): boolean {
  if (!isK8sExecutorError(error)) return true;
  if (error.code === 'API_UNAVAILABLE') return true;
  return 'transient' in error && error.transient === true;
}

/**
 * `error` with `text` added to its message, same class and code (an `ApiError` keeps its status and
 * operation); the original is the `cause`. Anything else is returned as is.
 */
export function withMessage(error: unknown, text: string): unknown {
  if (error instanceof ApiError) {
    return new ApiError(error.code, `${error.message} ${text}`, {
      ...(error.status !== undefined ? { status: error.status } : {}),
      operation: error.operation,
      transient: error.transient,
      cause: error,
    });
  }
  if (isK8sExecutorError(error)) {
    return new K8sExecutorError(error.code, `${error.message} ${text}`, { cause: error });
  }
  return error;
}
