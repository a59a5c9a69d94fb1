export {
  type BuildJobInput,
  buildJob,
  DEFAULT_RESTART_POLICY,
  KUEUE_PRIORITY_CLASS_LABEL,
  KUEUE_QUEUE_LABEL,
} from './build-job.js';
export {
  CONFIG_FIELDS_ANNOTATION,
  CONFIG_FIELDS_MAX_LENGTH,
  CONFIG_HASH_ANNOTATION,
  type ConfigChange,
  type ConfigDrift,
  type ConfigRecord,
  configDrift,
  configRecordOf,
  describeConfigChange,
  describeConfigDrift,
  type PodTemplate,
  recordedConfig,
} from './drift.js';
export { sortKeys, stableJson } from './stable-json.js';
