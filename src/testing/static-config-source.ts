import { parseYamlDocument } from '../adapters/fs/parse-yaml-document.js';
import type { ConfigIssue } from '../errors/config-error.js';
import type { ConfigSnapshot, ConfigSource, RawDocument } from '../ports/config-source.js';

/**
 * A {@link ConfigSource} over in-memory YAML texts laid out like a Mage project: `metadata.yaml`,
 * `pipelines/<uuid>/metadata.yaml`, and optionally the template and policy files named by
 * `K8S_CONFIG_FILE` / `K8S_DEFAULT_CONFIG_PATH` in `env`. Line numbers in issues refer to these texts.
 *
 * @example
 * new StaticConfigSource({ 'metadata.yaml': 'k8s_executor_config:\n  container_config: {image: x}\n',
 *   'pipelines/etl/metadata.yaml': 'blocks:\n  - uuid: load\n' });
 */
export class StaticConfigSource implements ConfigSource {
  constructor(
    private readonly files: Readonly<Record<string, string>>,
    private readonly env: Readonly<Record<string, string | undefined>> = {},
  ) {}

  /** The snapshot of `pipelineUuid` (same contract as the file-system source). */
  async load(pipelineUuid?: string): Promise<ConfigSnapshot> {
    const issues: ConfigIssue[] = [];
    const read = (path: string | undefined): RawDocument | undefined => {
      if (path === undefined || this.files[path] === undefined) return undefined;
      const { doc, issues: found } = parseYamlDocument(this.files[path], path);
      issues.push(...found);
      return doc;
    };
    const project = read('metadata.yaml');
    const pipeline = pipelineUuid !== undefined ? read(`pipelines/${pipelineUuid}/metadata.yaml`) : undefined;
    if (pipelineUuid !== undefined && !pipeline) {
      issues.push({
        code: 'UNKNOWN_PIPELINE',
        path: '',
        message: `Pipeline "${pipelineUuid}" does not exist; known pipelines: ${(await this.listPipelines()).join(', ') || 'none'}.`,
      });
    }
    const template = read(this.env.K8S_CONFIG_FILE);
    const policy = read(this.env.K8S_DEFAULT_CONFIG_PATH);
    return {
      projectDir: '<memory>',
      ...(project ? { project } : {}),
      ...(pipeline ? { pipeline } : {}),
      ...(template ? { template } : {}),
      ...(policy ? { policy } : {}),
      env: this.env,
      issues,
    };
  }

  /** The pipelines present, sorted. */
  async listPipelines(): Promise<string[]> {
    return Object.keys(this.files)
      .map((f) => /^pipelines\/([^/]+)\/metadata\.yaml$/.exec(f)?.[1])
      .filter((u): u is string => u !== undefined)
      .sort();
  }
}
