import { K8sExecutorError } from './base.js';

/** Where a config value came from. */
export interface SourceLocation {
  /** The file path as given (absolute or relative to the working directory). */
  file: string;
  /** 1-based line number, when the value came from YAML. */
  line?: number;
  /** 1-based column, when known. */
  column?: number;
}

/** The stable code of one configuration problem. See `docs/errors.md`. */
export type ConfigIssueCode =
  | 'YAML_SYNTAX'
  | 'FILE_NOT_FOUND'
  | 'UNKNOWN_KEY'
  | 'INVALID_TYPE'
  | 'INVALID_VALUE'
  | 'INVALID_QUANTITY'
  | 'INVALID_NAME'
  | 'INVALID_LABEL'
  | 'MISSING_IMAGE'
  | 'TEMPLATE_UNDEFINED'
  | 'TEMPLATE_SYNTAX'
  | 'CONFLICTING_KEYS'
  | 'UNKNOWN_PIPELINE'
  | 'UNKNOWN_BLOCK'
  | 'UNKNOWN_UPSTREAM'
  | 'DAG_CYCLE';

/** One configuration problem. All of them are collected before anything is reported. */
export interface ConfigIssue {
  /** Stable code of the problem. */
  code: ConfigIssueCode;
  /** Path of the offending value in the user's own spelling, e.g. `k8s_executor_config.pod.tolerations[0]`. */
  path: string;
  /** One sentence that says what is wrong and what would be right. */
  message: string;
  /** The file and line the value came from, when it came from a file. */
  location?: SourceLocation;
}

/** Formats one issue as `file:line: path: message [CODE]`. */
export function formatConfigIssue(issue: ConfigIssue): string {
  const where = issue.location
    ? `${issue.location.file}${issue.location.line !== undefined ? `:${issue.location.line}` : ''}: `
    : '';
  const path = issue.path ? `${issue.path}: ` : '';
  return `${where}${path}${issue.message} [${issue.code}]`;
}

/**
 * Thrown when configuration is invalid. Carries every issue found, not only the first one.
 * A ConfigError is always raised before any call to the Kubernetes API.
 */
export class ConfigError extends K8sExecutorError {
  /** Every problem found, in file and line order. */
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[]) {
    const count = issues.length === 1 ? '1 problem' : `${issues.length} problems`;
    super(
      'CONFIG_INVALID',
      `Invalid executor configuration (${count}):\n${issues.map((i) => `  - ${formatConfigIssue(i)}`).join('\n')}`,
    );
    this.name = 'ConfigError';
    this.issues = issues;
  }
}
