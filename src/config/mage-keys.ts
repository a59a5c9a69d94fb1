import type { ConfigIssue } from '../errors/config-error.js';
import type { DocumentPath, RawDocument } from '../ports/config-source.js';
import type { JsonObject } from '../types/kube.js';
import { dedentWarning, isScalarValue } from './dedent.js';
import { didYouMean } from './did-you-mean.js';
import { formatDocumentPath } from './paths.js';
import { renderTemplate } from './template.js';
import type { ConfigWarning } from './warnings.js';

/**
 * The keys of Mage's own files, as Mage reads them (mage-ai: `RepoConfig`, `Pipeline.load_config`,
 * `Block.to_dict`, `RetryConfig`). The ones this executor reads are listed in docs/configuration.md §11 and
 * §12; the others are accepted and ignored on purpose. Any other key close to a known one is an
 * `UNKNOWN_KEY` with a did-you-mean; a key close to none (an anchor holder such as `defaults: &d`, a key of
 * a newer Mage) is ignored with an `IGNORED_KEY` warning, as Mage ignores it.
 */

/** Top-level keys of `<project>/metadata.yaml`. */
export const PROJECT_KEYS: readonly string[] = [
  // read here
  'executor_type',
  'k8s_executor_config',
  'retry_config',
  // Mage's, ignored here
  'ai_config',
  'azure_container_instance_config',
  'cluster_type',
  'concurrency_config',
  'dependency_venvs_config',
  'ecs_config',
  'emr_config',
  'features',
  'gcp_cloud_run_config',
  'help_improve_mage',
  'ldap_config',
  'logging_config',
  'notification_config',
  'openai_api_key',
  'pipelines',
  'project_type',
  'project_uuid',
  'queue_config',
  'remote_variables_dir',
  'settings_backend',
  'spark_config',
  'variables_dir',
  'variables_retention_period',
  'workspace_config_defaults',
  'workspace_initial_metadata',
];

/** Top-level keys of `<project>/pipelines/<uuid>/metadata.yaml`. */
export const PIPELINE_KEYS: readonly string[] = [
  // read here
  'blocks',
  'executor_config',
  'executor_type',
  'retry_config',
  'run_pipeline_in_one_process',
  'type',
  'uuid',
  'variables',
  // Mage's, ignored here
  'cache_block_output_in_memory',
  'callbacks',
  'concurrency_config',
  'conditionals',
  'created_at',
  'data_integration',
  'description',
  'execution_framework',
  'executor_count',
  'extensions',
  'name',
  'notification_config',
  'remote_variables_dir',
  'settings',
  'spark_config',
  'tags',
  'updated_at',
  'variables_dir',
  'widgets',
];

/** Keys of one item of a pipeline's `blocks`. */
export const BLOCK_KEYS: readonly string[] = [
  // read here
  'executor_config',
  'executor_type',
  'retry_config',
  'type',
  'upstream_blocks',
  'uuid',
  // Mage's, ignored here
  'all_upstream_blocks_executed',
  'callback_blocks',
  'color',
  'conditional_blocks',
  'configuration',
  'content',
  'downstream_blocks',
  'extension_uuid',
  'groups',
  'has_callback',
  'language',
  'name',
  'outputs',
  'pipelines',
  'replicated_block',
  'status',
  'tags',
  'timeout',
];

/** Keys of Mage's `retry_config` (project, pipeline and block). */
export const RETRY_KEYS: readonly string[] = ['retries', 'delay', 'max_delay', 'exponential_backoff'];

/** Mage's executor types (`ExecutorType`). */
export const EXECUTOR_TYPES: readonly string[] = [
  'azure_container_instance',
  'ecs',
  'gcp_cloud_run',
  'k8s',
  'local_python',
  'local_python_force',
  'pyspark',
];

/** Collects issues and warnings about one document. */
export class DocumentChecker {
  readonly issues: ConfigIssue[] = [];
  readonly warnings: ConfigWarning[] = [];

  constructor(readonly document: RawDocument) {}

  /** An issue at `path` of the document, with its file and line. */
  add(code: ConfigIssue['code'], path: DocumentPath, message: string): void {
    this.issues.push({
      code,
      path: formatDocumentPath(path),
      message,
      location: this.document.locate(path) ?? { file: this.document.file },
    });
  }

  /**
   * Reports every key of `map` that is not in `known` (with a did-you-mean), and warns about an empty key
   * whose children were written at its own level (`childrenOf[key]` says what it could hold).
   */
  keys(
    map: JsonObject,
    path: DocumentPath,
    where: string,
    known: readonly string[],
    childrenOf: Readonly<Record<string, (key: string, value: unknown) => boolean>> = {},
  ): void {
    for (const key of Object.keys(map)) {
      const holds = childrenOf[key];
      if (holds) {
        const warning = dedentWarning(this.document, map, path, key, holds);
        if (warning) this.warnings.push(warning);
      }
      if (known.includes(key)) continue;
      const guess = didYouMean(key, known);
      if (guess) {
        this.add('UNKNOWN_KEY', [...path, key], `unknown key "${key}" in ${where}; did you mean "${guess}"?`);
        continue;
      }
      // Like Mage, which reads only the keys it knows; a key close to none of them is not a typo of one.
      const location = this.document.locate([...path, key]);
      this.warnings.push({
        code: 'IGNORED_KEY',
        path: formatDocumentPath([...path, key]),
        message: `"${key}" is not a key Mage or k8s-executor reads in ${where}, so it is ignored (docs/configuration.md §12 lists them).`,
        ...(location ? { location } : {}),
      });
    }
  }

  /** An executor type: one of Mage's (did-you-mean otherwise), or a template rendered later. */
  executorType(value: unknown, path: DocumentPath): string | undefined {
    if (value === null || value === undefined) return undefined;
    if (typeof value !== 'string') {
      this.add('INVALID_TYPE', path, `expected an executor type such as "k8s", got ${describe(value)}.`);
      return undefined;
    }
    const text = value.trim();
    if (text === '' || text.includes('{{') || EXECUTOR_TYPES.includes(text)) return text;
    const guess = didYouMean(text, EXECUTOR_TYPES) ?? (text.toLowerCase() === 'k8' ? 'k8s' : undefined);
    this.add(
      'INVALID_VALUE',
      path,
      `unknown executor_type "${text}"${guess ? `: did you mean "${guess}"?` : ''} Use one of ${EXECUTOR_TYPES.join(', ')} (Mage runs any other value as local_python).`,
    );
    return undefined;
  }

  /**
   * {@link executorType}, rendered when it is a template: Mage renders executor types with its template
   * variables (`env_var`, ...), not the run variables. Undefined when empty or invalid.
   */
  renderedExecutorType(
    value: unknown,
    path: DocumentPath,
    env: Readonly<Record<string, string | undefined>>,
  ): string | undefined {
    const raw = this.executorType(value, path);
    if (raw === undefined || !raw.includes('{{')) return raw || undefined;
    const rendered = renderTemplate(raw, { env, variables: {} });
    if (!rendered.ok) {
      this.add(rendered.code, path, rendered.message);
      return undefined;
    }
    return this.executorType(rendered.value.trim(), path) || undefined;
  }
}

/** True when `map` has a key that looks like a misspelling of `key` (and not `key` itself). */
export function hasMisspelled(map: unknown, key: string): boolean {
  if (typeof map !== 'object' || map === null || Array.isArray(map)) return false;
  return Object.keys(map).some((k) => k !== key && didYouMean(k, [key]) === key);
}

/** A retry_config's children, for the dedent warning. */
export const isRetryKey = (key: string, value: unknown): boolean =>
  RETRY_KEYS.includes(key) && isScalarValue(value);

/** Describes a raw value's type for messages. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  return typeof value === 'string' ? `"${value}"` : `${typeof value} ${String(value)}`;
}
