export {
  type JobNameInput,
  jobName,
  MANUAL_TRIGGER_NAME,
  MAX_JOB_NAME_LENGTH,
  runIdPart,
  TRIGGER_NAME_PLACEHOLDER,
} from './job-name.js';
export {
  IDENTITY_KEYS,
  identityAnnotations,
  identityLabels,
  isJobOfRun,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  managedSelector,
  toLabelValue,
} from './labels.js';
export { runIdClashes } from './run-id-clashes.js';
