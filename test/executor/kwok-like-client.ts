import type { Clock } from '../../src/ports/clock.js';
import type { JobClient } from '../../src/ports/job-client.js';
import type { InMemoryJobClient } from '../../src/testing/in-memory-job-client.js';

const FINAL_CONDITIONS = new Set(['SuccessCriteriaMet', 'Complete', 'FailureTarget', 'Failed']);

/**
 * An {@link InMemoryJobClient} as KWOK's API server serves it: a log follow never ends on its own, even
 * after its container ended (a real kubelet also ends it some time later); only the client stops it. It
 * also notes, by Job name, the clock's time at which the Jobs watch delivered the Job's first final
 * condition (`SuccessCriteriaMet`/`Complete`, `FailureTarget`/`Failed`): the start of a hand-off.
 */
export function kwokLike(
  client: InMemoryJobClient,
  clock: Clock,
): { jobClient: JobClient; finalAt: Map<string, number> } {
  const finalAt = new Map<string, number>();
  const jobClient = new Proxy(client, {
    get(target, property, receiver) {
      if (property === 'followPodLog') {
        const follow: JobClient['followPodLog'] = async (namespace, pod, onLine, options = {}) => {
          await target.followPodLog(namespace, pod, onLine, options);
          const { signal } = options;
          await new Promise<void>((_, reject) => {
            if (signal?.aborted) reject(signal.reason);
            signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
          });
        };
        return follow;
      }
      if (property === 'watchJobs') {
        const watch: JobClient['watchJobs'] = (namespace, onEvent, options) =>
          target.watchJobs(
            namespace,
            (event) => {
              const name = event.object.metadata?.name ?? '';
              const final = event.object.status?.conditions?.some(
                (c) => FINAL_CONDITIONS.has(c.type) && c.status === 'True',
              );
              if (final && !finalAt.has(name)) finalAt.set(name, clock.now());
              onEvent(event);
            },
            options,
          );
        return watch;
      }
      const value = Reflect.get(target, property, receiver) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { jobClient, finalAt };
}
