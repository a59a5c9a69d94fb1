import type { ConfigIssue } from '../errors/config-error.js';
import type { ConfigSnapshot, RawDocument } from '../ports/config-source.js';
import type { JsonObject } from '../types/kube.js';
import { DocumentChecker, describe, isRetryKey, PROJECT_KEYS } from './mage-keys.js';
import { isPlainObject } from './merge.js';
import { isExecutorConfigKey } from './normalize.js';
import { retryOf } from './retry-config.js';
import { brokenFiles } from './snapshot-files.js';
import type { ConfigWarning } from './warnings.js';

/** What the project `metadata.yaml` says beyond its `k8s_executor_config`, and its problems. */
export interface ProjectCheck {
  /** Unknown keys (with did-you-mean), wrong types, bad executor_type and retry_config values. */
  issues: ConfigIssue[];
  /** An empty key with its children dedented (`k8s_executor_config:` then `image: x` beside it). */
  warnings: ConfigWarning[];
  /** The project's `retry_config`, when it is a map. */
  retryConfig?: JsonObject;
}

/**
 * Checks the top level of the project metadata.yaml as Mage reads it (docs/configuration.md §12). A file
 * that failed to parse, or is missing, gets no checks here (its problem is already reported).
 */
export function checkProjectDocument(snapshot: ConfigSnapshot): ProjectCheck {
  const document = snapshot.project;
  if (!document || brokenFiles(snapshot).has(document.file) || document.value === null) {
    return { issues: [], warnings: [] };
  }
  // A document never changes: check it once (every block of a pipeline resolves against it).
  const cached = checked.get(document);
  if (cached && cached.env === snapshot.env) return cached.check;
  const check = checkDocument(document, snapshot.env);
  checked.set(document, { env: snapshot.env, check });
  return check;
}

const checked = new WeakMap<RawDocument, { env: ConfigSnapshot['env']; check: ProjectCheck }>();

function checkDocument(document: RawDocument, env: ConfigSnapshot['env']): ProjectCheck {
  const check = new DocumentChecker(document);
  if (!isPlainObject(document.value)) {
    check.add('INVALID_TYPE', [], `expected a map of project settings, got ${describe(document.value)}.`);
    return { issues: check.issues, warnings: [] };
  }
  const root = document.value;
  check.keys(root, [], 'the project metadata.yaml', PROJECT_KEYS, {
    k8s_executor_config: (key) => !PROJECT_KEYS.includes(key) && isExecutorConfigKey(key),
    retry_config: isRetryKey,
  });
  check.renderedExecutorType(root.executor_type, ['executor_type'], env);
  retryOf(undefined, root.retry_config, ['retry_config'], check.add.bind(check));
  return {
    issues: check.issues,
    warnings: check.warnings,
    ...(isPlainObject(root.retry_config) ? { retryConfig: root.retry_config } : {}),
  };
}

/** The project's own `executor_type` (rendered; undefined when empty or invalid). */
export function projectExecutorType(snapshot: ConfigSnapshot): string | undefined {
  const document = snapshot.project;
  if (!document || brokenFiles(snapshot).has(document.file) || !isPlainObject(document.value))
    return undefined;
  return new DocumentChecker(document).renderedExecutorType(
    document.value.executor_type,
    ['executor_type'],
    snapshot.env,
  );
}
