/**
 * Every stable error and reason code the SDK produces. Each one is documented in `docs/errors.md`
 * (meaning, cause, fix). Codes never change meaning once released; new ones may be added.
 */
export const ErrorCodes = [
  // configuration (thrown before any API call)
  'CONFIG_INVALID',
  // runtime reasons (a block's Job reached a final state that is not success)
  'JOB_FAILED',
  'EXIT_CODE',
  'OOM_KILLED',
  'IMAGE_PULL_FAILED',
  'CONTAINER_CONFIG_ERROR',
  'UNSCHEDULABLE',
  'POD_CREATE_FAILED',
  'EVICTED',
  'DEADLINE_EXCEEDED',
  'BACKOFF_LIMIT_EXCEEDED',
  'POD_FAILURE_POLICY',
  'JOB_DELETED',
  'JOB_NAME_COLLISION',
  'CANCELLED',
  'SKIPPED',
  // Kubernetes API (classified in the adapter)
  'NO_CLUSTER',
  'API_UNAUTHORIZED',
  'API_FORBIDDEN',
  'API_NOT_FOUND',
  'API_CONFLICT',
  'API_GONE',
  'API_INVALID',
  'API_UNAVAILABLE',
  // an SDK call given an option of the wrong type (thrown before anything is run)
  'INVALID_ARGUMENT',
  // local backend
  'LOCAL_NO_COMMAND',
  // CLI usage
  'USAGE',
] as const;

/** A stable error or reason code. See `docs/errors.md`. */
export type ErrorCode = (typeof ErrorCodes)[number];
