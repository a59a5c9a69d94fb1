import { resolveConfig } from '../config/index.js';
import type { ConfigOverrides } from '../config/overrides.js';
import type { ResolvedConfig } from '../config/types.js';
import { jobName } from '../naming/job-name.js';
import type { ConfigSnapshot } from '../ports/config-source.js';
import type { ServerPod } from '../ports/pod-introspector.js';
import { buildJob } from '../spec/build-job.js';
import type { Job } from '../types/kube.js';
import type { RunIdentity } from '../types/run.js';
import type { PreparedJob } from './run-job.js';

/** The default cluster id when neither an option nor `MAGE_CLUSTER_UUID` sets one. */
export const DEFAULT_CLUSTER_ID = 'mage';

/** Everything needed to build one Job, without IO. */
export interface PrepareInput {
  /** The raw config layers, as a {@link ConfigSource} loads them. */
  snapshot: ConfigSnapshot;
  /** `block`: one block's Job; `pipeline`: the whole pipeline as one Job. */
  mode: 'block' | 'pipeline';
  /** The run, for the Job name, labels and templates. */
  identity: RunIdentity;
  /** The caller's run variables, for templates. */
  variables?: Readonly<Record<string, unknown>>;
  /** The pod to inherit from. */
  serverPod?: ServerPod;
  /** Overrides `MAGE_CLUSTER_UUID`. */
  clusterId?: string;
  /** The container command; overrides `container.command` of the config. */
  command?: string[];
  /** The container args; overrides `container.args` of the config. */
  args?: string[];
  /** Runtime overrides (`--set`): a layer above the block, below an enforced policy. */
  overrides?: ConfigOverrides;
  /** The block's own runtime overrides (`--set-block`): a layer above {@link PrepareInput.overrides}. */
  blockOverrides?: ConfigOverrides;
}

/** A built Job with the resolved config it came from (for `explain`). */
export interface PreparedRun extends PreparedJob {
  /** The resolved config the Job was built from, with the provenance of every field. */
  resolved: ResolvedConfig;
}

/** The cluster id: the option, else `MAGE_CLUSTER_UUID`, else `mage`. */
export function clusterIdOf(snapshot: ConfigSnapshot, option?: string): string {
  return option || snapshot.env.MAGE_CLUSTER_UUID || DEFAULT_CLUSTER_ID;
}

/**
 * Resolves the config, names the Job and builds it. Pure: the same input always gives the same Job.
 * @throws ConfigError (`CONFIG_INVALID`) with every problem found.
 */
export function prepareJob(input: PrepareInput): PreparedRun {
  return builtRun(planJob(input));
}

/** A planned run with its Job built. */
export function builtRun({ build, ...planned }: PlannedRun): PreparedRun {
  return { job: build(), ...planned };
}

/** A run's config resolved and its Job named, with the build of the Job itself left for later. */
export interface PlannedRun extends Omit<PreparedRun, 'job'> {
  /** Builds the Job (pure; it cannot fail once the config resolved). */
  build(): Job;
}

/**
 * {@link prepareJob} up to the Job's body: everything that can fail (the config) is checked, and the
 * body, the largest part, is built only when {@link PlannedRun.build} is called (a block waiting for its
 * create holds its resolved config, which it shares with the other runs of its block, not a Job).
 * @throws ConfigError (`CONFIG_INVALID`) with every problem found.
 */
export function planJob(input: PrepareInput): PlannedRun {
  const { snapshot, mode, identity } = input;
  const resolved = resolveConfig({
    snapshot,
    mode,
    identity,
    ...(identity.blockUuid !== undefined ? { blockUuid: identity.blockUuid } : {}),
    ...(input.variables ? { variables: input.variables } : {}),
    ...(input.serverPod ? { serverPod: input.serverPod } : {}),
    ...(input.overrides ? { overrides: input.overrides } : {}),
    ...(input.blockOverrides ? { blockOverrides: input.blockOverrides } : {}),
  });
  const clusterId = clusterIdOf(snapshot, input.clusterId);
  const kind = mode;
  const runId = mode === 'block' ? identity.blockRunId : identity.pipelineRunId;
  const name = jobName({
    clusterId,
    prefix: resolved.config.jobNamePrefix,
    kind,
    runId: String(runId),
    ...(identity.attempt !== undefined ? { attempt: identity.attempt } : {}),
    ...(identity.triggerName !== undefined ? { triggerName: identity.triggerName } : {}),
  });
  const { command, args } = input;
  const { config } = resolved;
  return {
    jobName: name,
    namespace: config.namespace,
    containerName: config.container.name,
    identity,
    clusterId,
    kind,
    resolved,
    build: () =>
      buildJob({
        config,
        jobName: name,
        identity,
        clusterId,
        kind,
        ...(command ? { command } : {}),
        ...(args ? { args } : {}),
      }),
  };
}
