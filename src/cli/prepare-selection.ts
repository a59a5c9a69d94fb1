import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { FsConfigSource } from '../adapters/fs/fs-config-source.js';
import { isPlainObject } from '../config/merge.js';
import { K8sBlockExecutor } from '../executor/block-executor.js';
import type { PreparedRun } from '../executor/prepare.js';
import type { ConfigSnapshot } from '../ports/config-source.js';
import type { JobClient } from '../ports/job-client.js';
import type { PodIntrospector, ServerPod } from '../ports/pod-introspector.js';
import type { Pod } from '../types/kube.js';
import { type CliArgs, required, usageError } from './args.js';
import { blockOverrides, runOverrides } from './set-flags.js';

/** A JobClient for commands that never reach a cluster: any call is a bug. */
const noCluster = new Proxy({} as JobClient, {
  get(_target, method) {
    return () => Promise.reject(new Error(`render/explain must not call the API (${String(method)})`));
  },
});

/** Builds the Job selected by `render`/`explain` flags, with no cluster involved. */
export async function prepareSelection(
  args: CliArgs,
  env: Record<string, string | undefined>,
): Promise<PreparedRun> {
  const command = args.command;
  const projectDir = required(args.project, '--project DIR', command);
  const pipelineUuid = required(args.pipeline, '--pipeline UUID', command);
  const serverPod = args.serverPod ? await readServerPod(args.serverPod, env, command) : undefined;
  const podIntrospector: PodIntrospector | undefined = serverPod
    ? { currentPod: () => Promise.resolve(serverPod) }
    : undefined;
  const configSource = new FsConfigSource({ projectDir, env });
  const executor = new K8sBlockExecutor({
    configSource,
    jobClient: noCluster,
    ...(podIntrospector ? { podIntrospector } : {}),
  });
  const overrides = runOverrides(args);
  const common = {
    pipelineUuid,
    ...(args.trigger !== undefined ? { triggerName: args.trigger } : {}),
    variables: args.vars,
    ...(args.rest.length > 0 ? { command: args.rest } : {}),
  };
  try {
    const snapshot = await configSource.load(pipelineUuid);
    if (args.block !== undefined) {
      // Every --set-block is checked against the pipeline; the selected block's apply, above --set.
      const own = blockOverrides(args, blockUuidsOf(snapshot))[args.block];
      return await executor.prepare(
        {
          ...common,
          blockUuid: args.block,
          blockRunId: required(args.blockRunId, '--block-run-id ID (with --block)', command),
          // A block's labels carry its pipeline run; render does not need a real one.
          pipelineRunId: args.pipelineRunId ?? '0',
          ...(overrides.length > 0 ? { overrides } : {}),
          ...(own ? { blockOverrides: own } : {}),
        },
        snapshot,
      );
    }
    if (args.blockRunId !== undefined) throw usageError('--block-run-id needs --block UUID', command);
    if (args.setBlocks.length > 0)
      throw usageError(
        "--set-block is for a block's Job (--block); the whole-pipeline Job takes --set",
        command,
      );
    return await executor.preparePipelineJob(
      {
        ...common,
        pipelineRunId: required(
          args.pipelineRunId,
          '--block UUID --block-run-id ID, or --pipeline-run-id ID',
          command,
        ),
        ...(overrides.length > 0 ? { overrides } : {}),
      },
      snapshot,
    );
  } finally {
    executor.close();
  }
}

/** The uuids of the blocks of the snapshot's pipeline file, as written (none when it has no list). */
export function blockUuidsOf(snapshot: ConfigSnapshot): string[] {
  const value = snapshot.pipeline?.value;
  const blocks = isPlainObject(value) && Array.isArray(value.blocks) ? value.blocks : [];
  return blocks.flatMap((b) => (isPlainObject(b) && typeof b.uuid === 'string' ? [b.uuid] : []));
}

/** Reads a pod (YAML or JSON, e.g. `kubectl get pod -o yaml`) standing in for the server pod. */
export async function readServerPod(
  file: string,
  env: Record<string, string | undefined>,
  command: string,
): Promise<ServerPod> {
  let pod: Pod;
  try {
    pod = parse(await readFile(file, 'utf8')) as Pod;
  } catch (error) {
    throw usageError(
      `--server-pod: cannot read "${file}": ${error instanceof Error ? error.message : String(error)}`,
      command,
    );
  }
  const containers = pod?.spec?.containers ?? [];
  if (containers.length === 0)
    throw usageError(`--server-pod: "${file}" is not a pod with containers`, command);
  const wanted = env.MAGE_CONTAINER_NAME;
  const container = (wanted && containers.find((c) => c.name === wanted)) || containers[0]!;
  return { pod, containerName: container.name };
}
