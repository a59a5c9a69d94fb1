import { newestPod, type PodRecord, summarizePod } from '../monitor/pod-summary.js';
import type { BlockState } from '../monitor/types.js';
import type { JobClient } from '../ports/job-client.js';
import type { KubeEvent } from '../types/kube.js';
import { logLines } from './pod-log-stream.js';
import type { WarningEvent } from './types.js';

/** The last `lines` lines of one container's log; none when it cannot be read. Never rejects. */
export async function readTail(
  jobClient: JobClient,
  namespace: string,
  pod: string,
  container: string,
  lines: number,
): Promise<string[]> {
  try {
    return logLines(await jobClient.readPodLog(namespace, pod, { container, tailLines: lines }));
  } catch {
    return [];
  }
}

/** The Warning events of the Job and of its last three pods. Never rejects. */
export async function collectWarnings(
  jobClient: JobClient,
  namespace: string,
  jobName: string,
  state: BlockState,
): Promise<WarningEvent[]> {
  const objects: { kind: 'Job' | 'Pod'; name: string }[] = [{ kind: 'Job', name: jobName }];
  for (const pod of Object.keys(state.pods).slice(-3)) objects.push({ kind: 'Pod', name: pod });
  const lists = await Promise.all(
    // A list that fails (or a client that throws instead of rejecting) is only a missing list.
    objects.map(async (o): Promise<KubeEvent[]> => {
      try {
        return await jobClient.listWarningEvents(namespace, o);
      } catch {
        return [];
      }
    }),
  );
  return lists.flatMap((events, i) =>
    events.map((e) => ({
      object: `${objects[i]!.kind}/${objects[i]!.name}`,
      reason: e.reason ?? '',
      message: e.message ?? '',
      count: e.count ?? 1,
    })),
  );
}

/**
 * A succeeded state with the Job's pods read once more: for a success seen (the Job's condition, on
 * the Jobs watch) before its pod's end (on the Pods watch), which carries the exit code and the
 * termination message. Only pods of this Job (`uid`) count. Never rejects: the state as it was.
 */
export async function withPodsRead(
  jobClient: JobClient,
  namespace: string,
  state: BlockState,
  uid: string | undefined,
  at: number,
): Promise<BlockState> {
  try {
    const { items } = await jobClient.listPods(namespace, `job-name=${state.jobName}`);
    const pods: Record<string, PodRecord> = { ...state.pods };
    for (const pod of items) {
      const record = summarizePod(pod, at, pods[pod.metadata.name ?? '']);
      if (record.name === '' || (uid && record.ownerUid && record.ownerUid !== uid)) continue;
      pods[record.name] = record;
    }
    const current = newestPod(Object.values(pods));
    const exit = current?.phase === 'Succeeded' ? current.terminated : undefined;
    return {
      ...state,
      pods,
      ...(current ? { currentPod: current.name } : {}),
      ...(state.exitCode === undefined && exit
        ? { exitCode: exit.exitCode, containerName: exit.containerName }
        : {}),
    };
  } catch {
    return state;
  }
}
