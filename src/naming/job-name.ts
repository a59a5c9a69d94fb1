import { K8sExecutorError } from '../errors/base.js';
import { shortHash } from './short-hash.js';

/** Kubernetes' limit for a DNS-1123 label, which a Job name must be so its pods can carry it as a label. */
export const MAX_JOB_NAME_LENGTH = 63;

/** The placeholder in `job_name_prefix` that becomes the trigger's name. */
export const TRIGGER_NAME_PLACEHOLDER = '{trigger_name}';

/** What `{trigger_name}` becomes when the run has no trigger (a manual run) or its name has no letter or digit. */
export const MANUAL_TRIGGER_NAME = 'manual';

/** Everything a Job name is made of. The caller resolves each part; {@link jobName} only assembles it. */
export interface JobNameInput {
  /** The cluster id: the executor option, else `MAGE_CLUSTER_UUID`, else `mage`. Resolved by the caller. */
  clusterId: string;
  /** The resolved `job_name_prefix`; may hold `{trigger_name}`. */
  prefix: string;
  /** `block` for a block run, `pipeline` for a whole-pipeline (single-Job) run. */
  kind: 'block' | 'pipeline';
  /** The block run id (kind `block`) or the pipeline run id (kind `pipeline`). */
  runId: string;
  /** 1 for the first try; from 2 on, `-attempt-<n>` follows the id. @default 1 */
  attempt?: number;
  /** The trigger's name, for `{trigger_name}`. @default 'manual' (when absent) */
  triggerName?: string;
}

/**
 * The deterministic Job name of a run: `<cluster>-<prefix>-<kind>-<runId>[-attempt-<n>]`, normalized to a
 * valid DNS-1123 label of at most 63 characters. The same input always gives the same name, which is what
 * makes creating the Job idempotent.
 *
 * - `{trigger_name}` in the prefix becomes the trigger's name, lowercased, every run of characters outside
 *   `[a-z0-9]` turned into one `-`; no trigger (or nothing left) gives `manual`.
 * - Each part (cluster, prefix, run id) is lowercased, every run of characters outside `[a-z0-9]` becomes one
 *   `-`, and `-` is trimmed from its ends. Empty cluster or prefix parts are left out.
 * - A run id that loses more than its case and `_`→`-` to that (`A.B`, `+01:00`, `a__b`) is followed by
 *   `-<8-hex SHA-256 of the run id as given>`, so that run ids that differ give different names (see
 *   docs/naming.md).
 * - Too long: the cluster-and-prefix part is cut and an 8-hex SHA-256 of the full normalized name is put
 *   before `-<kind>-<runId>[-attempt-<n>]`, which is kept whole. When even that does not fit, the name is
 *   `<kind>-<as much of the id as fits>-<hash>[-attempt-<n>]`. See `docs/naming.md`.
 *
 * @throws K8sExecutorError `CONFIG_INVALID` when no valid name can be made: the run id has no letter or digit,
 *   or `attempt` is not a whole number ≥ 1.
 * @example jobName({ clusterId: 'mage', prefix: 'data-prep', kind: 'block', runId: '42' }) // 'mage-data-prep-block-42'
 * @example jobName({ clusterId: 'prod', prefix: 'etl-{trigger_name}', kind: 'pipeline', runId: '7', triggerName: 'Nightly_Load', attempt: 2 })
 *   // 'prod-etl-nightly-load-pipeline-7-attempt-2'
 */
export function jobName(input: JobNameInput): string {
  const { kind, runId } = input;
  const id = runIdPart(runId);
  if (id === '') {
    throw new K8sExecutorError(
      'CONFIG_INVALID',
      `Cannot name the Job: the ${kind} run id ${JSON.stringify(runId)} has no letter or digit.`,
      { hint: 'Pass the run id the orchestrator assigned, such as "42".' },
    );
  }
  const attempt = input.attempt ?? 1;
  if (!Number.isSafeInteger(attempt) || attempt < 1) {
    throw new K8sExecutorError(
      'CONFIG_INVALID',
      `Cannot name the Job: attempt ${String(attempt)} is not a whole number of at least 1.`,
      { hint: 'Pass 1 for the first try, 2 for the first retry, and so on.' },
    );
  }

  const prefix = input.prefix.replaceAll(TRIGGER_NAME_PLACEHOLDER, triggerSlug(input.triggerName));
  const head = [toDnsPart(input.clusterId), toDnsPart(prefix)].filter((part) => part !== '').join('-');
  const attemptSuffix = attempt >= 2 ? `-attempt-${attempt}` : '';
  const tail = `${kind}-${id}${attemptSuffix}`;
  const full = head === '' ? tail : `${head}-${tail}`;
  if (full.length <= MAX_JOB_NAME_LENGTH) return full;

  const hash = shortHash(full);
  const hashedTail = `${hash}-${tail}`;
  if (hashedTail.length <= MAX_JOB_NAME_LENGTH) {
    // Keep the start of cluster-prefix (the readable part), cut its end, let the hash keep names apart.
    const room = Math.max(0, MAX_JOB_NAME_LENGTH - hashedTail.length - 1);
    const kept = trimHyphens(head.slice(0, room));
    return kept === '' ? hashedTail : `${kept}-${hashedTail}`;
  }
  // The id itself is too long: drop cluster-prefix and keep as much of the id as fits.
  const room = MAX_JOB_NAME_LENGTH - `${kind}--${hash}${attemptSuffix}`.length;
  return `${kind}-${trimHyphens(id.slice(0, room))}-${hash}${attemptSuffix}`;
}

/**
 * The run id as a Job name holds it: normalized (lowercase, every run of characters outside `[a-z0-9]`
 * as one `-`, no `-` at either end), then, when that lost more than case and `_`→`-`, `-` and the 8-hex
 * SHA-256 of the run id as given. So `Run_42` stays `run-42` (the name earlier versions gave it, which a
 * resumed run adopts), while `7-A.B` (`7-a-b-<hash>`) no longer takes the name of `7-a-b`, nor
 * `...T10:00+01:00` that of `...T10:00-01:00`. Ids that differ only in case or `_`/`-` still meet; a
 * pipeline's blocks that would are reported by `validate` (docs/naming.md). `''` when nothing is left.
 *
 * @example runIdPart('42-load_data') // '42-load-data'
 * @example runIdPart('42-A.B') // '42-a-b-' + 8 hex characters
 */
export function runIdPart(runId: string): string {
  const id = toDnsPart(runId);
  if (id === '' || id === runId.toLowerCase().replaceAll('_', '-')) return id;
  return `${id}-${shortHash(runId)}`;
}

/** `{trigger_name}`'s value: the normalized trigger name, or `manual`. */
function triggerSlug(triggerName: string | undefined): string {
  const slug = toDnsPart(triggerName ?? '');
  return slug === '' ? MANUAL_TRIGGER_NAME : slug;
}

/** Lowercase, every run of characters outside `[a-z0-9]` as one `-`, no `-` at either end. */
function toDnsPart(text: string): string {
  return trimHyphens(text.toLowerCase().replace(/[^a-z0-9]+/g, '-'));
}

/** Drops `-` from both ends (after normalization there is at most one at each end, so this is linear). */
function trimHyphens(text: string): string {
  return text.replace(/^-+/, '').replace(/-+$/, '');
}
