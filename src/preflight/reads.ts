import { ApiError, type ApiOperation } from '../errors/api-error.js';
import type { CheckName, Finding } from './types.js';

/** What a read of the cluster gave: its value, or why there is none. */
export type Read<T> = { ok: true; value: T } | { ok: false; error: unknown };

/** A read that succeeded. */
export function readOk<T>(value: T): Read<T> {
  return { ok: true, value };
}

/** A read that failed. */
export function readFailed<T>(error: unknown): Read<T> {
  return { ok: false, error };
}

/**
 * The resource as kubectl names it: `secrets`, `jobs.batch`, `pods/log`,
 * `selfsubjectaccessreviews.authorization.k8s.io`.
 */
export function resourceName(op: Pick<ApiOperation, 'resource' | 'group'>): string {
  const [resource, subresource] = op.resource.split('/');
  return `${resource}${op.group ? `.${op.group}` : ''}${subresource ? `/${subresource}` : ''}`;
}

/**
 * The `not-checked` finding of a read that failed, saying why: for a 403, the verb and resource the
 * identity lacks, from the error's own classification ("needs get on secrets in namespace "ml"").
 */
export function notChecked(check: CheckName, what: string, error: unknown): Finding {
  if (error instanceof ApiError && error.code === 'API_FORBIDDEN') {
    const op = error.operation;
    const where = op.namespace ? ` in namespace "${op.namespace}"` : ' (cluster-wide)';
    return {
      check,
      status: 'not-checked',
      message: `${what}: not checked: needs ${op.verb} on ${resourceName(op)}${where}.`,
      fix: "grant preflight's identity that permission (optional, see docs/preflight.md), or check it yourself.",
    };
  }
  const reason = error instanceof Error ? error.message : String(error);
  return { check, status: 'not-checked', message: `${what}: not checked: ${reason}` };
}
