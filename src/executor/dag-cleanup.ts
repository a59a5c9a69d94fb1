import { isK8sExecutorError } from '../errors/base.js';
import { withRetries } from './dag-api.js';
import type { DagContext } from './dag-context.js';
import { listRunJobs } from './dag-identity.js';

/**
 * Deletes every Job of this run once it is over, but those named in `keep` (left running on purpose):
 * found by the run's labels and full identity in each of its namespaces, not by the attempts it
 * recorded, so a Job whose create answer was lost goes too.
 * Each delete names the uid it listed, so a newer Job of the same name is left alone. A close
 * (`closed`) stops the retries: the deletes already sent are awaited, the rest is left. Resolves what
 * could not be deleted (empty when all went), never rejects.
 */
export async function deleteRunJobs(
  ctx: DagContext,
  namespaces: ReadonlySet<string>,
  closed: AbortSignal,
  keep: ReadonlySet<string> = new Set(),
): Promise<string[]> {
  const problems: string[] = [];
  const why = (error: unknown) =>
    closed.aborted ? 'the executor was closed' : error instanceof Error ? error.message : String(error);
  for (const namespace of namespaces) {
    const jobs = await listRunJobs(ctx, namespace, closed).catch((error: unknown) => {
      problems.push(`listing the Jobs of namespace "${namespace}" failed (${why(error)})`);
      return [];
    });
    await Promise.all(
      jobs
        .filter(({ job }) => !keep.has(job.metadata.name!))
        .map(({ job }) => {
          const name = job.metadata.name!;
          const uid = job.metadata.uid;
          return withRetries(ctx.clock, closed, () =>
            ctx.jobClient.deleteJob(namespace, name, {
              propagationPolicy: 'Background',
              ...(uid ? { uid } : {}),
            }),
          ).catch((error: unknown) => {
            // A conflict on the uid precondition: the Job of that name is another one now, not ours to delete.
            if (isK8sExecutorError(error) && error.code === 'API_CONFLICT') return;
            problems.push(`Job "${name}" of namespace "${namespace}" (${why(error)})`);
          });
        }),
    );
  }
  return problems;
}

/** {@link deleteRunJobs}, said as the run's `cleanupError`: undefined when every Job went. */
export async function cleanUpRun(
  ctx: DagContext,
  namespaces: ReadonlySet<string>,
  closed: AbortSignal,
  keep?: ReadonlySet<string>,
): Promise<string | undefined> {
  const problems = await deleteRunJobs(ctx, namespaces, closed, keep);
  return problems.length > 0 ? `Deleting the run's Jobs failed: ${problems.join('; ')}.` : undefined;
}
