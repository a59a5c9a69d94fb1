import { stringify } from 'yaml';
import { createClientNodeAdapters } from '../../../../src/adapters/client-node/index.js';
import { K8sBlockExecutor } from '../../../../src/executor/block-executor.js';
import { K8sPipelineExecutor } from '../../../../src/executor/pipeline-executor.js';
import type { MonitorPolicy } from '../../../../src/monitor/types.js';
import { type HubEvent, WatchHubs } from '../../../../src/monitor/watch-hub.js';
import { managedSelector } from '../../../../src/naming/labels.js';
import { systemClock } from '../../../../src/ports/clock.js';
import { StaticConfigSource } from '../../../../src/testing/static-config-source.js';
import { type FateOptions, fateAnnotations } from '../../cluster/fates.js';

/** The image every e2e Job names: KWOK never pulls it, and any real kubelet fails to. */
export const E2E_IMAGE = 'example.invalid/block:1';

/** The pipeline every e2e project holds. */
export const E2E_PIPELINE = 'e2e';

/** One block of an e2e project: its fate and its block-level executor config. */
export interface E2eBlock {
  readonly uuid: string;
  readonly upstream?: readonly string[];
  readonly fate?: FateOptions;
  /** The block's `executor_config` (merged under the fate annotations). */
  readonly config?: Readonly<Record<string, unknown>>;
  /** The block's Mage `retry_config` (`retries`, `delay`, ...). */
  readonly retryConfig?: Readonly<Record<string, unknown>>;
}

/**
 * A Mage project as in-memory YAML: project-level namespace and image, and pipeline `e2e` whose k8s
 * blocks carry their fate as pod-template annotations (`metadata.annotations`, copied to the pod
 * template by the Job builder).
 */
export function e2eProject(namespace: string, blocks: readonly E2eBlock[]): Record<string, string> {
  return {
    'metadata.yaml': stringify({
      project_type: 'standalone',
      k8s_executor_config: { namespace, container: { image: E2E_IMAGE } },
    }),
    [`pipelines/${E2E_PIPELINE}/metadata.yaml`]: stringify({
      uuid: E2E_PIPELINE,
      blocks: blocks.map((block) => ({
        uuid: block.uuid,
        type: 'transformer',
        upstream_blocks: [...(block.upstream ?? [])],
        executor_type: 'k8s',
        ...(block.retryConfig ? { retry_config: block.retryConfig } : {}),
        executor_config: {
          ...block.config,
          ...(block.fate ? { metadata: { annotations: { ...fateAnnotations(block.fate) } } } : {}),
        },
      })),
    }),
  };
}

/** Options of {@link e2eExecutors}. */
export interface E2eExecutorOptions {
  /** The project's YAML texts (see {@link e2eProject}). */
  files: Readonly<Record<string, string>>;
  /** A kubeconfig other than `KUBECONFIG` (a ServiceAccount's). */
  kubeconfigPath?: string;
  monitorPolicy?: Partial<MonitorPolicy>;
  concurrency?: number;
  /** Period of the watch hub's polling fallback. @default 10_000 */
  pollIntervalMs?: number;
  /** Receives the shared watches' diagnostics (errors included). */
  onHubEvent?: (event: HubEvent) => void;
  /** The pipeline executor keeps every Job after a run. @default false */
  keepJobs?: boolean;
}

/** A block and a pipeline executor over the real client-node adapter, sharing one set of watches. */
export interface E2eExecutors {
  readonly blocks: K8sBlockExecutor;
  readonly pipelines: K8sPipelineExecutor;
  /** Stops the shared watches. */
  close(): void;
}

/**
 * Wires the executors the way `createExecutors` does, but over an in-memory project and with the
 * hub's diagnostics exposed. No server pod: the test process runs in none.
 */
export function e2eExecutors(options: E2eExecutorOptions): E2eExecutors {
  const { jobClient } = createClientNodeAdapters(
    options.kubeconfigPath ? { kubeconfigPath: options.kubeconfigPath } : {},
  );
  const watchHubs = new WatchHubs({
    jobClient,
    clock: systemClock,
    labelSelector: managedSelector(),
    ...(options.pollIntervalMs !== undefined ? { pollIntervalMs: options.pollIntervalMs } : {}),
    ...(options.onHubEvent ? { onHubEvent: options.onHubEvent } : {}),
  });
  const shared = {
    configSource: new StaticConfigSource(options.files),
    jobClient,
    watchHubs,
    ...(options.monitorPolicy ? { monitorPolicy: options.monitorPolicy } : {}),
    ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
  };
  return {
    blocks: new K8sBlockExecutor(shared),
    pipelines: new K8sPipelineExecutor({
      ...shared,
      ...(options.keepJobs !== undefined ? { keepJobs: options.keepJobs } : {}),
    }),
    close: () => watchHubs.close(),
  };
}

/** The 1-based line of the first line of a project file's text that contains `needle`. */
export function lineOf(text: string, needle: string): number {
  const index = text.split('\n').findIndex((line) => line.includes(needle));
  if (index < 0) throw new Error(`no line contains ${JSON.stringify(needle)}`);
  return index + 1;
}
