export { ApiError, type ApiOperation } from './api-error.js';
export {
  isK8sExecutorError,
  type JobLeftRunning,
  K8sExecutorError,
  type K8sExecutorErrorOptions,
} from './base.js';
export { type ErrorCode, ErrorCodes } from './codes.js';
export {
  ConfigError,
  type ConfigIssue,
  type ConfigIssueCode,
  formatConfigIssue,
  type SourceLocation,
} from './config-error.js';
