import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** Writes a Mage-style project (relative path → YAML text) to a new temporary folder; returns its path. */
export function writeProject(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'k8s-executor-test-'));
  for (const [path, text] of Object.entries(files)) {
    const file = join(dir, path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
  }
  return dir;
}

/** The files of a project whose pipeline `etl` has the given blocks YAML (a list under `blocks:`). */
export function projectFiles(blocksYaml: string, projectConfig = ''): Record<string, string> {
  return {
    'metadata.yaml': `executor_type: k8s
k8s_executor_config:
  container:
    image: busybox:1.36
    command: ["sh", "-c", "echo run {{ pipeline_run_id }}"]
${projectConfig}`,
    'pipelines/etl/metadata.yaml': `uuid: etl
blocks:
${blocksYaml}`,
  };
}

/** Writes {@link projectFiles} to a temporary folder; returns its path. */
export function projectWithBlocks(blocksYaml: string, projectConfig = ''): string {
  return writeProject(projectFiles(blocksYaml, projectConfig));
}
