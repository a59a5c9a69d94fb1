import { ApiError } from '../errors/api-error.js';
import { isK8sExecutorError, type JobLeftRunning, K8sExecutorError } from '../errors/base.js';

/**
 * `error` with `text` added to its message and the Job it leaves running recorded in `jobLeftRunning`
 * (same class, code and classification), so that callers, the DAG's cleanup included, can tell a Job the
 * SDK chose to leave running from one it gave up on. A foreign error is wrapped as `JOB_FAILED`.
 */
export function leavingJobRunning(error: unknown, job: JobLeftRunning, text: string): K8sExecutorError {
  if (error instanceof ApiError) {
    return new ApiError(error.code, `${error.message} ${text}`, {
      ...(error.status !== undefined ? { status: error.status } : {}),
      operation: error.operation,
      transient: error.transient,
      cause: error,
      jobLeftRunning: job,
    });
  }
  const code = isK8sExecutorError(error) ? error.code : 'JOB_FAILED';
  const message = error instanceof Error ? error.message : String(error);
  return new K8sExecutorError(code, `${message} ${text}`, { cause: error, jobLeftRunning: job });
}

/** The Job an error says was left running, if it says so. */
export function jobLeftRunningBy(error: unknown): JobLeftRunning | undefined {
  return isK8sExecutorError(error) ? error.jobLeftRunning : undefined;
}
