import type { ClientNodeOptions } from '../adapters/client-node/index.js';
import { FsConfigSource } from '../adapters/fs/fs-config-source.js';
import type { ConfigOverrides } from '../config/overrides.js';
import { checkNamedBlocks, readPipeline, runModeOf } from '../config/pipeline.js';
import type { RunMode } from '../config/validate-snapshot.js';
import { ApiError } from '../errors/api-error.js';
import { ConfigError, type ConfigIssue } from '../errors/config-error.js';
import { blockRunIdOf } from '../executor/pipeline-types.js';
import { prepareJob } from '../executor/prepare.js';
import type { ClusterInspector } from '../ports/cluster-inspector.js';
import type { ConfigSnapshot, ConfigSource } from '../ports/config-source.js';
import type { PodIntrospector, ServerPod } from '../ports/pod-introspector.js';
import type { RunIdentity } from '../types/run.js';
import { inspectJobs, type PreflightTarget } from './inspect.js';
import type { PreflightReport } from './types.js';

/** The pipeline run id preflight names its Jobs with (`mage-data-prep-block-preflight-load`). */
export const PREFLIGHT_RUN_ID = 'preflight';

/**
 * Options of {@link preflight}: what to check, and (Kubernetes) every setting of the client-node adapter
 * ({@link ClientNodeOptions}: `kubeconfigPath`, `context`, `qps`, ...), as `createExecutors` takes them.
 */
export interface PreflightOptions extends Omit<ClientNodeOptions, 'env'> {
  /** The Mage project directory (holds `metadata.yaml` and `pipelines/`). */
  projectDir: string;
  /** The pipeline to check. */
  pipelineUuid: string;
  /** Only this block's Job (`dag` mode only). @default every block that runs as a Job */
  blockUuid?: string;
  /** The run mode to check. @default the one `run` picks (`runModeOf`: `single-job` for a k8s pipeline with `run_pipeline_in_one_process`) */
  mode?: RunMode;
  /** Run variables for templates, as `run` is given them. */
  variables?: Readonly<Record<string, unknown>>;
  /** The run's overrides for every Job (`--set`, `--namespace`), as {@link PipelineRun.overrides}. */
  overrides?: ConfigOverrides;
  /** One block's overrides by uuid (`--set-block`; `dag` mode only), as {@link PipelineRun.blockOverrides}. */
  blockOverrides?: Readonly<Record<string, ConfigOverrides>>;
  /** The trigger's name (`{trigger_name}` in `job_name_prefix`). */
  triggerName?: string;
  /** The cluster id in Job names and labels. @default MAGE_CLUSTER_UUID, else `mage` */
  clusterId?: string;
  /** Executor types run as Jobs, as the pipeline executor's option. @default ['k8s'] */
  k8sExecutorTypes?: readonly string[];
  /** The environment config reads (`K8S_CONFIG_FILE`, `env_var()`, ...) and kubeconfig discovery. @default process.env */
  env?: Record<string, string | undefined>;
  /** Where config comes from. @default an `FsConfigSource` over `projectDir` */
  configSource?: ConfigSource;
  /** The cluster to ask. @default the client-node adapter of the kubeconfig (loaded on first use) */
  inspector?: ClusterInspector;
  /** Finds the server pod to inherit from. @default the client-node adapter's, unless `inspector` is given */
  podIntrospector?: PodIntrospector;
  /** Inherit from the pod this process runs in, as `run` does. @default true */
  inheritServerPod?: boolean;
  /** Aborts every request. */
  signal?: AbortSignal;
}

/**
 * Checks every Job a run of the pipeline would create against the current cluster, creating nothing:
 * the same blocks and mode as `run` (and `validate`), each Job built exactly as `run` builds it (with the
 * placeholder run id `preflight`), then a server-side dry run, RBAC self-checks, the
 * objects it refers to, LimitRanges, ResourceQuotas and whether any node can run its pod (see
 * docs/preflight.md for every check, the permissions each needs and its limits). A check that cannot be
 * done (no permission to read something) is `not-checked`, never a failure.
 *
 * @throws ConfigError (`CONFIG_INVALID`) when the config does not resolve (every problem of every
 *   block), the block is unknown or does not run as a Job, or `blockUuid` is given in single-job mode.
 * @throws K8sExecutorError `NO_CLUSTER`, ApiError `API_UNAUTHORIZED` / `API_UNAVAILABLE` when the cluster
 *   cannot be asked at all.
 * @example
 * const report = await preflight({ projectDir: './my_project', pipelineUuid: 'etl', context: 'staging' });
 * for (const block of report.blocks)
 *   for (const f of block.findings) if (f.status !== 'ok') console.log(block.block, f.check, f.message);
 * process.exitCode = report.ok ? 0 : 1;
 */
export async function preflight(options: PreflightOptions): Promise<PreflightReport> {
  const { signal } = options;
  const env = options.env ?? process.env;
  const configSource = options.configSource ?? new FsConfigSource({ projectDir: options.projectDir, env });
  const snapshot = await configSource.load(options.pipelineUuid, signal);
  const pipeline = readPipeline(snapshot);
  const mode = runModeOf(pipeline, options.mode);
  const selected = selectJobs(pipeline, mode, options);

  let inspector = options.inspector;
  let podIntrospector = options.podIntrospector;
  if (!inspector) {
    const { createClientNodeAdapters } = await import('../adapters/client-node/index.js');
    const adapters = createClientNodeAdapters({ ...options, env });
    inspector = adapters.clusterInspector;
    podIntrospector ??= adapters.podIntrospector;
  }
  const { serverPod, serverPodNamespace } = await findServerPod(
    options.inheritServerPod === false ? undefined : podIntrospector,
    signal,
  );
  const targets = prepareTargets(snapshot, selected, options, serverPod);
  const blocks = await inspectJobs(inspector, targets, {
    ...(signal ? { signal } : {}),
    ...(serverPodNamespace ? { serverPodNamespace } : {}),
  });
  return { pipelineUuid: pipeline.uuid, mode, blocks, ok: blocks.every((b) => b.status !== 'fail') };
}

/** The Jobs of the run: each block that runs as a Job (`dag`), or the pipeline's one Job (`single-job`). */
function selectJobs(
  pipeline: ReturnType<typeof readPipeline>,
  mode: RunMode,
  options: PreflightOptions,
): { block: string; identity: Omit<RunIdentity, 'pipelineRunId' | 'pipelineUuid'> }[] {
  const fail = (code: ConfigIssue['code'], message: string): never => {
    throw new ConfigError([{ code, path: options.blockUuid === undefined ? '' : 'blocks', message }]);
  };
  checkNamedBlocks(
    pipeline,
    Object.keys(options.blockOverrides ?? {}).map((uuid) => ({ uuid, path: 'blockOverrides' })),
  );
  if (mode === 'single-job') {
    if (Object.keys(options.blockOverrides ?? {}).length > 0)
      fail(
        'INVALID_VALUE',
        `pipeline "${pipeline.uuid}" runs as one Job (single-job mode): blockOverrides apply to block Jobs only (use overrides).`,
      );
    if (options.blockUuid !== undefined)
      fail(
        'INVALID_VALUE',
        `pipeline "${pipeline.uuid}" runs as one Job (single-job mode), so no block has a Job of its own: check it without a block, or with mode dag.`,
      );
    return [{ block: pipeline.uuid, identity: {} }];
  }
  const k8s = new Set((options.k8sExecutorTypes ?? ['k8s']).map((t) => t.toLowerCase()));
  const blocks = pipeline.blocks.filter(
    (b) => options.blockUuid === undefined || b.uuid === options.blockUuid,
  );
  if (options.blockUuid !== undefined && blocks.length === 0)
    fail(
      'UNKNOWN_BLOCK',
      `no block "${options.blockUuid}" in pipeline "${pipeline.uuid}": the blocks are ${pipeline.blocks.map((b) => `"${b.uuid}"`).join(', ') || 'none'}.`,
    );
  const jobs = blocks.filter((b) => k8s.has(b.executorType.toLowerCase()));
  if (options.blockUuid !== undefined && jobs.length === 0)
    fail(
      'INVALID_VALUE',
      `block "${options.blockUuid}" has executor_type "${blocks[0]?.executorType}": it does not run as a Kubernetes Job, so there is nothing to check on the cluster.`,
    );
  const run = { pipelineRunId: PREFLIGHT_RUN_ID };
  return jobs.map((b) => ({
    block: b.uuid,
    identity: { blockUuid: b.uuid, blockRunId: blockRunIdOf(run, b.uuid) },
  }));
}

/**
 * The server pod, as `run` would inherit from it. A 403 on reading it does not stop preflight: the
 * Jobs are built without inheritance, and the `rbac` check names the missing `get pods` in its namespace.
 */
async function findServerPod(
  introspector: PodIntrospector | undefined,
  signal: AbortSignal | undefined,
): Promise<{ serverPod?: ServerPod; serverPodNamespace?: string }> {
  if (!introspector) return {};
  try {
    const serverPod = await introspector.currentPod(signal);
    const namespace = serverPod?.pod.metadata.namespace;
    return serverPod ? { serverPod, ...(namespace ? { serverPodNamespace: namespace } : {}) } : {};
  } catch (error) {
    if (error instanceof ApiError && error.code === 'API_FORBIDDEN' && error.operation.namespace)
      return { serverPodNamespace: error.operation.namespace };
    throw error;
  }
}

/** Builds each Job as `run` would; every config problem of every block is thrown at once. */
function prepareTargets(
  snapshot: ConfigSnapshot,
  selected: ReturnType<typeof selectJobs>,
  options: PreflightOptions,
  serverPod: ServerPod | undefined,
): PreflightTarget[] {
  const issues: ConfigIssue[] = [];
  const targets: PreflightTarget[] = [];
  for (const { block, identity } of selected) {
    try {
      const prepared = prepareJob({
        snapshot,
        mode: identity.blockUuid === undefined ? 'pipeline' : 'block',
        identity: {
          pipelineUuid: options.pipelineUuid,
          pipelineRunId: PREFLIGHT_RUN_ID,
          attempt: 1,
          ...identity,
          ...(options.triggerName !== undefined ? { triggerName: options.triggerName } : {}),
        },
        ...(options.variables ? { variables: options.variables } : {}),
        ...(options.overrides ? { overrides: options.overrides } : {}),
        ...(options.blockOverrides?.[block] ? { blockOverrides: options.blockOverrides[block] } : {}),
        ...(serverPod ? { serverPod } : {}),
        ...(options.clusterId ? { clusterId: options.clusterId } : {}),
      });
      targets.push({ block, job: prepared.job, jobName: prepared.jobName, namespace: prepared.namespace });
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      for (const issue of error.issues)
        if (!issues.some((i) => JSON.stringify(i) === JSON.stringify(issue))) issues.push(issue);
    }
  }
  if (issues.length > 0) throw new ConfigError(issues);
  return targets;
}
