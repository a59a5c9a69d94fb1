import type { ConfigIssue, SourceLocation } from '../errors/config-error.js';

/** A path into a parsed document: object keys and array indexes. */
export type DocumentPath = readonly (string | number)[];

/** One parsed YAML (or in-memory) document, with the source position of every value it holds. */
export interface RawDocument {
  /** The file it came from (or a label such as `<inline>`). */
  file: string;
  /** The parsed value: plain objects, arrays, strings, numbers, booleans, null. */
  value: unknown;
  /** The file:line of the value (or key) at `path`, when known. */
  locate(path: DocumentPath): SourceLocation | undefined;
}

/** Everything configuration is made from, for one pipeline, read in one go. */
export interface ConfigSnapshot {
  /** The project directory. */
  projectDir: string;
  /** `<project>/metadata.yaml` (holds `executor_type` and `k8s_executor_config`), when present. */
  project?: RawDocument;
  /** `<project>/pipelines/<uuid>/metadata.yaml`, when a pipeline was asked for and found. */
  pipeline?: RawDocument;
  /** The job template of `K8S_CONFIG_FILE`, when set. */
  template?: RawDocument;
  /** The policy file of `K8S_DEFAULT_CONFIG_PATH`, when set. */
  policy?: RawDocument;
  /** The environment the executor runs in (env defaults, `env_var()`, cluster id). */
  env: Readonly<Record<string, string | undefined>>;
  /** Problems met while reading (missing files, YAML syntax): reported with validation's. */
  issues: ConfigIssue[];
}

/** Loads the raw configuration layers. The default reads a Mage-style project directory. */
export interface ConfigSource {
  /** Reads the project, the template and policy files, and the given pipeline (if any). */
  load(pipelineUuid?: string, signal?: AbortSignal): Promise<ConfigSnapshot>;
  /** Lists the pipeline uuids of the project, sorted. */
  listPipelines(signal?: AbortSignal): Promise<string[]>;
}
