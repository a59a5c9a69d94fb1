import type { RunMode } from '../config/validate-snapshot.js';

/**
 * How one check came out:
 * - `ok`: checked, and the run would not fail for it;
 * - `warn`: the run may wait or degrade for it (no node today, a claim still Pending, a quota used up by
 *   others right now), or something looks wrong without being sure to fail;
 * - `fail`: the block would fail (or never start) for it;
 * - `not-checked`: it could not be checked (no permission to read it, a webhook that refuses dry runs);
 *   the message says what was missing.
 */
export type FindingStatus = 'ok' | 'warn' | 'fail' | 'not-checked';

/** The checks, in the order they are reported. See docs/preflight.md. */
export const CHECKS = [
  'dry-run',
  'rbac',
  'namespace',
  'service-account',
  'secret',
  'configmap',
  'pvc',
  'image-pull-secret',
  'limit-range',
  'quota',
  'node-fit',
] as const;

/** One of {@link CHECKS}. */
export type CheckName = (typeof CHECKS)[number];

/** One result of one check (a check of several objects, such as `secret`, gives one per object). */
export interface Finding {
  /** The check. */
  check: CheckName;
  /** How it came out. */
  status: FindingStatus;
  /** What was found, in one or two sentences. */
  message: string;
  /** What to do about it, when something is to be done. */
  fix?: string;
}

/** The findings of one Job: a block's (`dag` runs) or the whole pipeline's (`single-job` runs). */
export interface BlockPreflight {
  /** The block's uuid; for a single-job run, the pipeline's. */
  block: string;
  /** The name the Job would get (with the placeholder run id `preflight`). */
  jobName: string;
  /** The namespace it would be created in. */
  namespace: string;
  /** The worst status of its findings: `fail`, then `warn`, then `not-checked`, then `ok`. */
  status: FindingStatus;
  /** Every finding, in the order of {@link CHECKS}. */
  findings: Finding[];
}

/** Everything `preflight` found. */
export interface PreflightReport {
  /** The pipeline checked. */
  pipelineUuid: string;
  /** The run mode checked (as `run` would pick it). */
  mode: RunMode;
  /** One entry per Job the run would create, in pipeline order. */
  blocks: BlockPreflight[];
  /** True when no block has a `fail` finding (warnings and unchecked ones do not count). */
  ok: boolean;
}

const RANK: Readonly<Record<FindingStatus, number>> = { ok: 0, 'not-checked': 1, warn: 2, fail: 3 };

/** The worst of some statuses (`ok` for none). */
export function worstStatus(statuses: Iterable<FindingStatus>): FindingStatus {
  let worst: FindingStatus = 'ok';
  for (const status of statuses) if (RANK[status] > RANK[worst]) worst = status;
  return worst;
}
