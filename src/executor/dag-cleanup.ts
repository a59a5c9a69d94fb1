import type { Job } from '../types/kube.js';
import type { DagContext } from './dag-context.js';
import { runSelector } from './dag-identity.js';

/** Deletes the run's Jobs named in `jobNames` once the run is over (best effort: a failed delete is left). */
export async function deleteRunJobs(
  ctx: DagContext,
  namespaces: ReadonlySet<string>,
  jobNames: ReadonlySet<string>,
): Promise<void> {
  if (jobNames.size === 0) return;
  for (const namespace of namespaces) {
    const list = await ctx.jobClient
      .listJobs(namespace, runSelector(ctx))
      .catch(() => ({ items: [] as Job[] }));
    await Promise.all(
      list.items
        .filter((job) => job.metadata.name && jobNames.has(job.metadata.name))
        .map((job) =>
          ctx.jobClient
            .deleteJob(namespace, job.metadata.name!, { propagationPolicy: 'Background' })
            .catch(() => false),
        ),
    );
  }
}
