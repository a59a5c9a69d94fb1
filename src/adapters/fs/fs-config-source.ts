import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ConfigIssue } from '../../errors/config-error.js';
import type { ConfigSnapshot, ConfigSource, RawDocument } from '../../ports/config-source.js';
import { parseYamlDocument } from './parse-yaml-document.js';

/** Options of {@link FsConfigSource}. */
export interface FsConfigSourceOptions {
  /** The Mage project directory (holds `metadata.yaml` and `pipelines/`). */
  projectDir: string;
  /** The environment (`K8S_CONFIG_FILE`, `K8S_DEFAULT_CONFIG_PATH`, env defaults). @default process.env */
  env?: Record<string, string | undefined>;
}

/**
 * Reads a Mage-style project directory: `<project>/metadata.yaml`,
 * `<project>/pipelines/<uuid>/metadata.yaml`, and the files named by `K8S_CONFIG_FILE` (job template)
 * and `K8S_DEFAULT_CONFIG_PATH` (policy), relative to the working directory. Missing files and YAML
 * errors become issues of the snapshot; `load` never throws for them. The constructor does no IO.
 *
 * @example
 * const snapshot = await new FsConfigSource({ projectDir: './my_project' }).load('etl');
 */
export class FsConfigSource implements ConfigSource {
  private readonly projectDir: string;
  private readonly env: Record<string, string | undefined> | undefined;

  constructor(options: FsConfigSourceOptions) {
    this.projectDir = options.projectDir;
    this.env = options.env;
  }

  /** Reads the project, the template and policy files and, when given, the pipeline `pipelineUuid`. */
  async load(pipelineUuid?: string, signal?: AbortSignal): Promise<ConfigSnapshot> {
    const env = Object.freeze({ ...(this.env ?? process.env) });
    const issues: ConfigIssue[] = [];
    const found = await isDirectory(this.projectDir);
    if (!found) {
      issues.push({
        code: 'FILE_NOT_FOUND',
        path: '',
        message: `the project directory ${this.projectDir} does not exist (or is not a directory): pass the Mage project folder, the one that holds metadata.yaml and pipelines/.`,
        location: { file: this.projectDir },
      });
    }
    const project = found
      ? await this.readYaml(join(this.projectDir, 'metadata.yaml'), 'project metadata.yaml', issues, signal)
      : undefined;
    const pipeline =
      pipelineUuid === undefined || !found
        ? undefined
        : await this.readPipeline(pipelineUuid, issues, signal);
    const template = env.K8S_CONFIG_FILE
      ? await this.readYaml(env.K8S_CONFIG_FILE, 'K8S_CONFIG_FILE', issues, signal)
      : undefined;
    const policy = env.K8S_DEFAULT_CONFIG_PATH
      ? await this.readYaml(env.K8S_DEFAULT_CONFIG_PATH, 'K8S_DEFAULT_CONFIG_PATH', issues, signal)
      : undefined;
    return {
      projectDir: this.projectDir,
      ...(project ? { project } : {}),
      ...(pipeline ? { pipeline } : {}),
      ...(template ? { template } : {}),
      ...(policy ? { policy } : {}),
      env,
      issues,
    };
  }

  /** The folders under `pipelines/` that hold a `metadata.yaml`, sorted. */
  async listPipelines(signal?: AbortSignal): Promise<string[]> {
    signal?.throwIfAborted();
    let entries: string[];
    try {
      entries = await readdir(join(this.projectDir, 'pipelines'));
    } catch {
      return [];
    }
    const found = await Promise.all(
      entries.map(async (name) =>
        (await isFile(join(this.projectDir, 'pipelines', name, 'metadata.yaml'))) ? name : undefined,
      ),
    );
    signal?.throwIfAborted();
    return found.filter((name): name is string => name !== undefined).sort();
  }

  private async readPipeline(
    uuid: string,
    issues: ConfigIssue[],
    signal?: AbortSignal,
  ): Promise<RawDocument | undefined> {
    const file = join(this.projectDir, 'pipelines', uuid, 'metadata.yaml');
    const safe = uuid !== '' && !/[/\\]/.test(uuid) && uuid !== '.' && uuid !== '..';
    if (safe && (await isFile(file))) return this.readYaml(file, 'pipeline metadata.yaml', issues, signal);
    const known = await this.listPipelines(signal);
    issues.push({
      code: 'UNKNOWN_PIPELINE',
      path: '',
      message: `no pipeline "${uuid}" in ${join(this.projectDir, 'pipelines')}: ${
        known.length > 0
          ? `the pipelines are ${known.map((k) => `"${k}"`).join(', ')}`
          : `the project has no pipelines (no pipelines/<uuid>/metadata.yaml)`
      }.`,
    });
    return undefined;
  }

  private async readYaml(
    file: string,
    what: string,
    issues: ConfigIssue[],
    signal?: AbortSignal,
  ): Promise<RawDocument | undefined> {
    let text: string;
    try {
      text = await readFile(file, { encoding: 'utf8', ...(signal ? { signal } : {}) });
    } catch (error) {
      signal?.throwIfAborted();
      const reason =
        (error as NodeJS.ErrnoException).code === 'ENOENT'
          ? 'does not exist'
          : `cannot be read (${(error as Error).message})`;
      issues.push({
        code: 'FILE_NOT_FOUND',
        path: '',
        message: `${what} ${file} ${reason}: create it, or fix the path${what.startsWith('K8S_') ? ` in ${what}` : ''}.`,
        location: { file },
      });
      return undefined;
    }
    const { doc, issues: yamlIssues } = parseYamlDocument(text, file);
    issues.push(...yamlIssues);
    return doc;
  }
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}
