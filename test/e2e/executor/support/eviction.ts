// A pod evicted through the API, as `kubectl drain` does it: the API server adds the pod's
// `DisruptionTarget` condition (reason `EvictionByEvictionAPI`) and deletes it with its grace period;
// KWOK then plays the kill (test/e2e/cluster/kwok-stages.yaml, pod-kill-on-delete: Failed, exit 137).
import { eventually, type TestNamespace } from './cluster.js';

/** Evicts one pod through the eviction subresource (a policy/v1 Eviction). */
export async function evictPod(ns: TestNamespace, podName: string): Promise<void> {
  await ns.core.createNamespacedPodEviction({
    name: podName,
    namespace: ns.name,
    body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: podName, namespace: ns.name } },
  });
}

/** Waits until the Job has a Running pod, evicts it, and resolves its name. */
export async function evictRunningPod(ns: TestNamespace, jobName: string): Promise<string> {
  const pods = await eventually(
    `a Running pod of Job ${jobName}`,
    () => ns.podsOf(jobName),
    (list) => list.some((p) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp),
  );
  const pod = pods.find((p) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp);
  const name = pod?.metadata?.name ?? '';
  await evictPod(ns, name);
  return name;
}
