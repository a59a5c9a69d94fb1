/**
 * k8s-executor: run pipeline blocks as Kubernetes Jobs. Start with {@link createExecutors}, or wire
 * {@link K8sBlockExecutor} / {@link K8sPipelineExecutor} to your own ports. Test doubles are in
 * `k8s-executor/testing`.
 *
 * This file is the whole public surface: every name is listed on purpose (no `export *`), and
 * `etc/k8s-executor.api.md` (checked in CI: `npm run api:check`) shows what it amounts to. See docs/api.md.
 *
 * @packageDocumentation
 */

import './node-version.js';

// The adapters users construct: a real cluster (loaded on first use), a Mage project directory, the local
// backend and its runner of non-k8s blocks.
export type { RetryOptions } from './adapters/client-node/backoff.js';
export type { ApiCallStats } from './adapters/client-node/call-policy.js';
export type { ApiObserver } from './adapters/client-node/kube-api.js';
export {
  type ClientNodeAdapters,
  type ClientNodeOptions,
  createClientNodeAdapters,
} from './adapters/client-node/lazy.js';
export { FsConfigSource, type FsConfigSourceOptions } from './adapters/fs/fs-config-source.js';
export { parseYamlDocument } from './adapters/fs/parse-yaml-document.js';
export { type CommandBlockRunnerOptions, commandBlockRunner } from './adapters/local/command-block-runner.js';
export { LocalJobClient, type LocalJobClientOptions } from './adapters/local/local-job-client.js';

// Config: read a pipeline, resolve, explain and validate a run's config, runtime overrides (pure).
export { type ExplainRow, explainConfig } from './config/explain.js';
export { POD_IDENTITY_ENV_NAMES } from './config/identity-env.js';
export { REMOVE, type Remove, Replacement, replaceWith } from './config/markers.js';
export type { ConfigOverride, ConfigOverrides } from './config/overrides.js';
export {
  type BlockDefinition,
  type PipelineDefinition,
  type RetryConfig,
  readPipeline,
  runModeOf,
} from './config/pipeline.js';
export { DISRUPTION_POLICY } from './config/pod-failure-policy.js';
export { type ResolveInput, resolveConfig } from './config/resolve.js';
export { UPSTREAM_OUTPUTS } from './config/resolve-stage.js';
export type {
  CommandPreset,
  ExecutorConfig,
  FieldOrigin,
  LayerName,
  ResolvedConfig,
} from './config/types.js';
export {
  checkSnapshot,
  type RunMode,
  type ValidateSnapshotOptions,
  type ValidationProblem,
  type ValidationReport,
  type ValidationWarning,
  validateSnapshot,
} from './config/validate-snapshot.js';
export type { ConfigWarning, ConfigWarningCode } from './config/warnings.js';

// The factory.
export { type CreateExecutorsOptions, createExecutors, type Executors } from './create.js';

// Errors: stable codes (docs/errors.md).
export { ApiError, type ApiOperation } from './errors/api-error.js';
export {
  isK8sExecutorError,
  type JobLeftRunning,
  K8sExecutorError,
  type K8sExecutorErrorOptions,
} from './errors/base.js';
export { type ErrorCode, ErrorCodes } from './errors/codes.js';
export {
  ConfigError,
  type ConfigIssue,
  type ConfigIssueCode,
  formatConfigIssue,
  type SourceLocation,
} from './errors/config-error.js';

// The two executors: their runs, options, events and results, and the Job of a run without IO.
export { type ExecutorOptions, K8sBlockExecutor } from './executor/block-executor.js';
export { K8sPipelineExecutor } from './executor/pipeline-executor.js';
export type {
  AttemptRecord,
  BlockOutcome,
  BlockRunStatus,
  ConfigDriftEvent,
  LocalBlockContext,
  LocalBlockRunner,
  PipelineEvent,
  PipelineExecutorOptions,
  PipelineResult,
  PipelineRun,
  PipelineRunOptions,
} from './executor/pipeline-types.js';
export { type PreparedRun, type PrepareInput, prepareJob } from './executor/prepare.js';
export type { PreparedJob } from './executor/run-job.js';
export type {
  BlockDetection,
  BlockEvent,
  BlockResult,
  BlockRun,
  BlockTimings,
  ExecuteOptions,
  LogLine,
  PipelineJobRun,
  WarningEvent,
} from './executor/types.js';

// The shared watches, and what the monitor reports of a block.
export type { HubEvent } from './monitor/hub-event.js';
export type { InfrastructureCause } from './monitor/job-outcome.js';
export type {
  BlockPhase,
  BlockState,
  MonitorPolicy,
  Observation,
  PodSummary,
  TimeInterval,
} from './monitor/types.js';
export { WatchHub, WatchHubs } from './monitor/watch-hub.js';
export type {
  HubSubscription,
  WatchHubOptions,
  WatchHubSettings,
  WatchHubSizes,
  WatchHubStats,
} from './monitor/watch-hub-options.js';

// Job names, identity labels and annotations (pure).
export { type JobNameInput, jobName } from './naming/job-name.js';
export {
  IDENTITY_KEYS,
  identityAnnotations,
  identityLabels,
  isJobOfRun,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  managedSelector,
  toLabelValue,
} from './naming/labels.js';

// The ports.
export { type Clock, systemClock } from './ports/clock.js';
export type {
  AccessReview,
  ClusterInspector,
  KubeNode,
  LimitRange,
  LimitRangeItem,
  ObjectSummary,
  PersistentVolumeClaim,
  ResourceAttributes,
  ResourceList,
  ResourceQuota,
  ScopeSelectorTerm,
  StoredKeys,
  Taint,
} from './ports/cluster-inspector.js';
export type { ConfigSnapshot, ConfigSource, DocumentPath, RawDocument } from './ports/config-source.js';
export type {
  CallOptions,
  DeleteOptions,
  JobClient,
  ListOptions,
  ListResult,
  LogOptions,
  WatchOptions,
} from './ports/job-client.js';
export type { PodIntrospector, ServerPod } from './ports/pod-introspector.js';

// Preflight: a pipeline's Jobs checked against the cluster, creating nothing.
export { type AccessNeed, EXECUTOR_ACCESS } from './preflight/executor-access.js';
export { type PreflightOptions, preflight } from './preflight/preflight.js';
export {
  type BlockPreflight,
  CHECKS,
  type CheckName,
  type Finding,
  type FindingStatus,
  type PreflightReport,
} from './preflight/types.js';

// The Job spec, and the config record it carries for drift on resume (pure).
export {
  type BuildJobInput,
  buildJob,
  KUEUE_PRIORITY_CLASS_LABEL,
  KUEUE_QUEUE_LABEL,
} from './spec/build-job.js';
export {
  CONFIG_FIELDS_ANNOTATION,
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
} from './spec/drift.js';

// Telemetry: what the executors report, for a sink of your own.
export type {
  AttemptTelemetry,
  PipelineRunTelemetry,
  Telemetry,
  TelemetryAttempt,
  TelemetryAttemptOutcome,
  TelemetryPipelineRun,
} from './telemetry/telemetry.js';

// Kubernetes objects as the ports pass them (plain JSON), and a run's identity.
export type {
  Condition,
  Container,
  ContainerStatus,
  Job,
  JsonObject,
  KubeEvent,
  ObjectMeta,
  Pod,
  WatchEvent,
} from './types/kube.js';
export type { RunIdentity } from './types/run.js';
