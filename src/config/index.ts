/**
 * The configuration pipeline: raw layers → normalize → merge (priority, list rules, policy) with
 * provenance → templates → validation → {@link ResolvedConfig}. Pure: no file system, no process.env.
 * See docs/configuration.md.
 */
export { type ExplainRow, explainConfig } from './explain.js';
export { POD_IDENTITY_ENV_NAMES } from './identity-env.js';
export { type MageCommandInput, mageCommand } from './mage-command.js';
export { isRemove, isReplacement, REMOVE, type Remove, type Replacement, replaceWith } from './markers.js';
export type { ConfigOverride, ConfigOverrides } from './overrides.js';
export {
  type BlockDefinition,
  defaultExecutorType,
  type PipelineDefinition,
  type RetryConfig,
  readPipeline,
  runModeOf,
} from './pipeline.js';
export { DISRUPTION_POLICY } from './pod-failure-policy.js';
export { type ResolveInput, resolveConfig } from './resolve.js';
export { UPSTREAM_OUTPUTS } from './resolve-stage.js';
export type {
  CommandPreset,
  ExecutorConfig,
  FieldOrigin,
  LayerName,
  ResolvedConfig,
} from './types.js';
export {
  checkSnapshot,
  type RunMode,
  type ValidateSnapshotOptions,
  type ValidationProblem,
  type ValidationReport,
  type ValidationWarning,
  validateSnapshot,
} from './validate-snapshot.js';
export type { ConfigWarning, ConfigWarningCode } from './warnings.js';
