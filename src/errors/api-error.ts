import { K8sExecutorError, type K8sExecutorErrorOptions } from './base.js';
import type { ErrorCode } from './codes.js';

/** What was being attempted when a Kubernetes API call failed. */
export interface ApiOperation {
  /** The RBAC verb: `create`, `get`, `list`, `watch`, `delete`. */
  verb: string;
  /** The resource, with its subresource: `jobs`, `pods`, `pods/log`, `events`. */
  resource: string;
  /** The API group: `batch` or `""` (core). */
  group: string;
  /** The namespace, when the call was namespaced. */
  namespace?: string;
  /** The object name, when the call named one. */
  name?: string;
}

/**
 * A classified Kubernetes API failure. The adapter turns every `ApiException` and network error into
 * one of these; nothing outside the adapter sees client-node's own errors.
 */
export class ApiError extends K8sExecutorError {
  /** The HTTP status, or undefined for network failures. */
  readonly status: number | undefined;
  /** The call that failed. */
  readonly operation: ApiOperation;
  /** Whether retrying the same call later could succeed. */
  readonly transient: boolean;

  constructor(
    code: ErrorCode,
    message: string,
    details: { status?: number; operation: ApiOperation; transient?: boolean } & K8sExecutorErrorOptions,
  ) {
    super(code, message, details);
    this.name = 'ApiError';
    this.status = details.status;
    this.operation = details.operation;
    this.transient = details.transient ?? false;
  }
}
