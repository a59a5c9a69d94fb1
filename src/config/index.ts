/**
 * The configuration pipeline: raw layers → normalize → merge (priority, list rules, policy) with
 * provenance → templates → validation → {@link ResolvedConfig}. Pure: no file system, no process.env.
 * See docs/configuration.md.
 */
export { type ExplainRow, explainConfig } from './explain.js';
export { type BlockDefinition, type PipelineDefinition, type RetryConfig, readPipeline } from './pipeline.js';
export { type ResolveInput, resolveConfig } from './resolve.js';
export type { ExecutorConfig, FieldOrigin, LayerName, ResolvedConfig } from './types.js';
export { type ValidateSnapshotOptions, validateSnapshot } from './validate-snapshot.js';
