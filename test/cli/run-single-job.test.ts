import { afterEach, describe, expect, it, vi } from 'vitest';
import { writeProject } from '../helpers/project.js';
import { cli } from './run-cli.js';

afterEach(() => vi.restoreAllMocks());

describe('k8s-executor run --mode single-job', () => {
  it("prints the pipeline Job's progress as a block's, not a row left waiting", async () => {
    const dir = writeProject({
      'metadata.yaml': `executor_type: k8s
k8s_executor_config:
  container:
    image: busybox:1.36
    command: ["sh", "-c", "echo one job"]
`,
      'pipelines/etl/metadata.yaml': 'uuid: etl\nblocks:\n  - uuid: load\n',
    });
    const { code, stdout } = await cli([
      'run',
      '--local',
      '--project',
      dir,
      '--pipeline',
      'etl',
      '--mode',
      'single-job',
    ]);
    expect(code).toBe(0);
    const progress = stdout.split('\n').filter((l) => l.startsWith('etl: '));
    expect(progress[0]).toBe('etl: submitted');
    expect(progress.at(-1)).toBe('etl: succeeded');
    expect(progress).toContain('etl: running');
  });
});
