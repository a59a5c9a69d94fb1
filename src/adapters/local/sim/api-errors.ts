import { ApiError, type ApiOperation } from '../../../errors/api-error.js';

/** The API resources the simulated cluster serves. */
export type SimResource = 'jobs' | 'pods' | 'pods/log' | 'events';

/** Describes a call the way RBAC does, for {@link ApiError.operation}. */
export function simOperation(
  verb: string,
  resource: SimResource,
  namespace: string,
  name?: string,
): ApiOperation {
  return { verb, resource, group: resource === 'jobs' ? 'batch' : '', namespace, ...(name ? { name } : {}) };
}

/** `409 AlreadyExists`, worded like the API server. */
export function alreadyExists(op: ApiOperation): ApiError {
  return new ApiError('API_CONFLICT', `${kindOf(op)} "${op.name}" already exists.`, {
    status: 409,
    operation: op,
    hint: 'Pick another name, or adopt the existing object.',
  });
}

/** `404 NotFound`, worded like the API server. */
export function notFound(op: ApiOperation): ApiError {
  return new ApiError(
    'API_NOT_FOUND',
    `${kindOf(op)} "${op.name}" not found in namespace "${op.namespace}".`,
    {
      status: 404,
      operation: op,
      hint: 'Check the name and the namespace; the object may have been deleted.',
    },
  );
}

/** `409 Conflict` for a delete whose `preconditions.uid` names another object than the one of that name. */
export function preconditionFailed(op: ApiOperation, expected: string, actual: string | undefined): ApiError {
  return new ApiError(
    'API_CONFLICT',
    `Operation cannot be fulfilled on ${kindOf(op)} "${op.name}": Precondition failed: UID in precondition: ${expected}, UID in object meta: ${actual ?? ''}.`,
    {
      status: 409,
      operation: op,
      hint: 'The object of that name is another one than the one meant; it was left alone.',
    },
  );
}

/** `400 BadRequest` / `422 Invalid`: the request itself is wrong. */
export function invalid(op: ApiOperation, message: string, hint: string, status: 400 | 422 = 422): ApiError {
  return new ApiError('API_INVALID', message, { status, operation: op, hint });
}

/** `410 Gone`: the watch asked for events the server no longer keeps. */
export function gone(op: ApiOperation, requested: number, oldest: number): ApiError {
  return new ApiError('API_GONE', `too old resource version: ${requested} (${oldest}).`, {
    status: 410,
    operation: op,
    hint: 'List again and watch from the list’s resourceVersion.',
  });
}

/**
 * `504 Timeout` for a list or streaming list at a resourceVersion newer than the server has: the API
 * server waits about 3 s for its watch cache to catch up, then answers this; retrying may help.
 */
export function tooLargeResourceVersion(op: ApiOperation, requested: number, current: number): ApiError {
  return new ApiError('API_UNAVAILABLE', `Too large resource version: ${requested}, current: ${current}.`, {
    status: 504,
    operation: op,
    transient: true,
    hint: 'Retry: the API server’s cache has not caught up with that resourceVersion yet.',
  });
}

function kindOf(op: ApiOperation): string {
  return op.resource === 'jobs' ? 'jobs.batch' : op.resource;
}
