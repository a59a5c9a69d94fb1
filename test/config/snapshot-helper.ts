import { parseYamlDocument } from '../../src/adapters/fs/parse-yaml-document.js';
import type { ConfigSnapshot } from '../../src/ports/config-source.js';

/** YAML texts of the files of a snapshot (all optional). */
export interface SnapshotFiles {
  project?: string;
  pipeline?: string;
  template?: string;
  policy?: string;
  env?: Record<string, string | undefined>;
}

/** An in-memory snapshot parsed from YAML texts, with the same file:line behaviour as the fs source. */
export function snapshotOf(files: SnapshotFiles): ConfigSnapshot {
  const snapshot: ConfigSnapshot = { projectDir: 'proj', env: files.env ?? {}, issues: [] };
  const names = {
    project: 'proj/metadata.yaml',
    pipeline: 'proj/pipelines/p/metadata.yaml',
    template: 'template.yaml',
    policy: 'policy.yaml',
  } as const;
  for (const key of ['project', 'pipeline', 'template', 'policy'] as const) {
    const text = files[key];
    if (text === undefined) continue;
    const { doc, issues } = parseYamlDocument(text, names[key]);
    snapshot[key] = doc;
    snapshot.issues.push(...issues);
  }
  return snapshot;
}

/** A pipeline file with one block `b` whose executor_config is `blockConfig` (YAML, indented by 4). */
export function pipelineWithBlock(blockConfig: string, pipelineConfig = ''): string {
  return `uuid: p
${pipelineConfig ? `executor_config:\n${indent(pipelineConfig, 2)}\n` : ''}blocks:
- uuid: b
  executor_type: k8s
${blockConfig ? `  executor_config:\n${indent(blockConfig, 4)}\n` : ''}`;
}

/** A project file whose k8s_executor_config is `config` (YAML). */
export function projectWith(config: string): string {
  return `executor_type: k8s\nk8s_executor_config:\n${indent(config, 2)}\n`;
}

function indent(text: string, spaces: number): string {
  return text
    .trim()
    .split('\n')
    .map((line) => ' '.repeat(spaces) + line)
    .join('\n');
}

/** The identity of block `b` of pipeline `p`, run 1. */
export const BLOCK_RUN = { pipelineUuid: 'p', pipelineRunId: '7', blockUuid: 'b', blockRunId: '1' } as const;
