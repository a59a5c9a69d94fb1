import { isK8sExecutorError } from '../errors/base.js';
import type { JobClient } from '../ports/job-client.js';

/** What became of the run's Job when the run ended without following it to the end. */
export type Cleanup =
  /** The run was cancelled before anything was sent. */
  | { kind: 'not-submitted' }
  /** The create did not go through: no Job of this run exists. */
  | { kind: 'not-created' }
  /** The create had not settled within its bound and no Job of that name exists (yet). */
  | { kind: 'unsettled'; waitedMs: number }
  /** Deleted now, by its uid. */
  | { kind: 'deleted'; uid?: string }
  /** It was gone already. */
  | { kind: 'already-gone'; uid?: string }
  /** Someone was deleting it already. */
  | { kind: 'already-deleting'; uid?: string }
  /** The name holds another Job now (the uid differs): left alone; ours is gone. */
  | { kind: 'replaced'; uid?: string }
  /** The name holds a Job that is not this run's: left alone. */
  | { kind: 'foreign' }
  /** The delete (or the read before it) failed. */
  | { kind: 'failed'; error: string; uid?: string };

/**
 * Deletes the run's Job by name and uid (`preconditions.uid`), so that a Job of the same name that is
 * not the one this run created or adopted is never deleted. (A Job without a uid, as only a test double
 * returns, is deleted by name.) Never rejects.
 */
export async function deleteRunJob(
  jobClient: JobClient,
  namespace: string,
  name: string,
  uid: string | undefined,
  propagationPolicy: 'Foreground' | 'Background',
): Promise<Cleanup> {
  const known = uid ? { uid } : {};
  try {
    const deleted = await jobClient.deleteJob(namespace, name, { propagationPolicy, ...known });
    return { kind: deleted ? 'deleted' : 'already-gone', ...known };
  } catch (error) {
    if (isK8sExecutorError(error) && error.code === 'API_CONFLICT') return { kind: 'replaced', ...known };
    return { kind: 'failed', ...known, error: messageOf(error) };
  }
}

/** One sentence that says what became of the Job, and what to do when something is left to do. */
export function cleanupSentence(cleanup: Cleanup, namespace: string, jobName: string): string {
  const job = `Job "${jobName}"`;
  const withUid = 'uid' in cleanup && cleanup.uid ? `${job} (uid ${cleanup.uid})` : job;
  const byHand = `\`kubectl delete job ${jobName} -n ${namespace}\``;
  switch (cleanup.kind) {
    case 'not-submitted':
      return 'No Job was created.';
    case 'not-created':
      return `No Job was created (the create did not go through and no ${job} exists).`;
    case 'unsettled':
      return `The create of ${job} had not settled after ${Math.round(cleanup.waitedMs / 1000)} s and no such Job exists yet; if it appears later (a slow admission webhook), delete it with ${byHand}.`;
    case 'deleted':
      return `${withUid} was deleted with its pods.`;
    case 'already-gone':
      return `${withUid} was already gone.`;
    case 'already-deleting':
      return `${withUid} was already being deleted.`;
    case 'replaced':
      return `This run's ${withUid} is gone, and the Job that now holds its name is another one: it was left alone.`;
    case 'foreign':
      return `A ${job} exists that this run did not create (another run, or made by hand); it was left alone.`;
    case 'failed':
      return `Deleting ${withUid} failed (${cleanup.error}); delete it with ${byHand}.`;
  }
}

/** Whether the user has something left to do about the Job. */
export function needsAttention(cleanup: Cleanup): boolean {
  return cleanup.kind === 'failed' || cleanup.kind === 'unsettled';
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
