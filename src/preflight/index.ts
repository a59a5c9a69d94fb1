/** Preflight: every Job of a pipeline checked against the live cluster, creating nothing. See docs/preflight.md. */
export { type AccessNeed, EXECUTOR_ACCESS } from './executor-access.js';
export { type InspectOptions, inspectJobs, type PreflightTarget } from './inspect.js';
export { PREFLIGHT_RUN_ID, type PreflightOptions, preflight } from './preflight.js';
export {
  type BlockPreflight,
  CHECKS,
  type CheckName,
  type Finding,
  type FindingStatus,
  type PreflightReport,
} from './types.js';
