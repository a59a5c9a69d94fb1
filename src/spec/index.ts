export { type BuildJobInput, buildJob, DEFAULT_RESTART_POLICY } from './build-job.js';
export { sortKeys, stableJson } from './stable-json.js';
