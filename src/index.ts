import './node-version.js';

/**
 * k8s-executor: run pipeline blocks as Kubernetes Jobs. Start with {@link createExecutors}, or wire
 * {@link K8sBlockExecutor} / {@link K8sPipelineExecutor} to your own ports. Test doubles are in
 * `k8s-executor/testing`.
 */
export {
  type ClientNodeAdapters,
  type ClientNodeJobClient,
  type ClientNodeOptions,
  createClientNodeAdapters,
} from './adapters/client-node/lazy.js';
export { FsConfigSource, type FsConfigSourceOptions } from './adapters/fs/fs-config-source.js';
export { parseYamlDocument } from './adapters/fs/parse-yaml-document.js';
export { type CommandBlockRunnerOptions, commandBlockRunner } from './adapters/local/command-block-runner.js';
export { LocalJobClient, type LocalJobClientOptions } from './adapters/local/local-job-client.js';
export * from './config/index.js';
export { type CreateExecutorsOptions, createExecutors, type Executors } from './create.js';
export * from './errors/index.js';
export { type ExecutorOptions, K8sBlockExecutor } from './executor/block-executor.js';
export { K8sPipelineExecutor, type PipelineExecutorOptions } from './executor/pipeline-executor.js';
export type {
  AttemptRecord,
  BlockOutcome,
  BlockRunStatus,
  LocalBlockContext,
  LocalBlockRunner,
  PipelineEvent,
  PipelineResult,
  PipelineRun,
  PipelineRunOptions,
} from './executor/pipeline-types.js';
export { clusterIdOf, DEFAULT_CLUSTER_ID, type PreparedRun, prepareJob } from './executor/prepare.js';
export { retryDelayMs } from './executor/retry-delay.js';
export type {
  BlockEvent,
  BlockResult,
  BlockRun,
  ExecuteOptions,
  LogLine,
  PipelineJobRun,
  WarningEvent,
} from './executor/types.js';
export * from './monitor/index.js';
export * from './naming/index.js';
export * from './ports/index.js';
export * from './preflight/index.js';
export * from './spec/index.js';
export type {
  Condition,
  Container,
  ContainerStatus,
  Job,
  JsonObject,
  KubeEvent,
  ObjectMeta,
  Pod,
  RunIdentity,
  WatchEvent,
} from './types/index.js';
