import type { ConfigIssue } from '../errors/config-error.js';
import type { DocumentPath } from '../ports/config-source.js';
import type { JsonObject } from '../types/kube.js';
import { didYouMean } from './did-you-mean.js';
import { describe, RETRY_KEYS } from './mage-keys.js';
import { isPlainObject } from './merge.js';
import { asBoolean } from './scalars.js';

/** Mage's `retry_config`, with Mage's defaults filled in. */
export interface RetryConfig {
  /** How many times a failed block is tried again. @default 0 */
  retries: number;
  /** Seconds before the first retry. @default 5 */
  delaySeconds: number;
  /** The longest wait between retries, in seconds. @default 60 */
  maxDelaySeconds: number;
  /** Double the delay after each retry. @default true (Mage's default) */
  exponentialBackoff: boolean;
}

/** Reports an issue at a document path. */
type Add = (code: ConfigIssue['code'], path: DocumentPath, message: string) => void;

/**
 * Mage's retry_config (block over project, top-level keys), with Mage's defaults for missing keys. Problems
 * of `own` are reported; `base` (the project's) is reported where it is checked.
 */
export function retryOf(
  base: JsonObject | undefined,
  own: unknown,
  path: DocumentPath,
  add: Add,
): RetryConfig | undefined {
  if (own != null && !isPlainObject(own)) {
    add('INVALID_TYPE', path, 'expected a map {retries, delay, max_delay, exponential_backoff}.');
  }
  if (isPlainObject(own)) {
    for (const key of Object.keys(own)) {
      if (RETRY_KEYS.includes(key)) continue;
      const guess = didYouMean(key, RETRY_KEYS);
      add(
        'UNKNOWN_KEY',
        [...path, key],
        `unknown key "${key}" in retry_config${guess ? `; did you mean "${guess}"?` : `: use ${RETRY_KEYS.join(', ')}.`}`,
      );
    }
  }
  if (!base && !isPlainObject(own)) return undefined;
  const ownMap = isPlainObject(own) ? own : {};
  // Mage merges the top-level keys; an empty value is not set.
  const merged: JsonObject = { ...base };
  for (const [key, value] of Object.entries(ownMap)) if (value != null) merged[key] = value;
  const report = (code: ConfigIssue['code'], key: string, message: string) => {
    if (key in ownMap) add(code, [...path, key], message);
  };
  const number = (key: string, fallback: number, whole: boolean): number => {
    const value = merged[key];
    if (value === undefined || value === null) return fallback;
    if (typeof value !== 'number' || (whole && !Number.isInteger(value))) {
      report(
        'INVALID_TYPE',
        key,
        `expected ${whole ? 'a whole number' : 'a number of seconds'}, got ${describe(value)}.`,
      );
      return fallback;
    }
    if (value >= 0) return value;
    report('INVALID_VALUE', key, `expected a number of 0 or more, got ${value}.`);
    return fallback;
  };
  const backoff = merged.exponential_backoff;
  const exponentialBackoff = backoff == null ? true : asBoolean(backoff);
  if (exponentialBackoff === undefined)
    report('INVALID_TYPE', 'exponential_backoff', `expected true or false, got ${describe(backoff)}.`);
  return {
    retries: number('retries', 0, true),
    delaySeconds: number('delay', 5, false),
    maxDelaySeconds: number('max_delay', 60, false),
    exponentialBackoff: exponentialBackoff ?? true,
  };
}
