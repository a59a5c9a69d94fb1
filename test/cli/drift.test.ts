import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseCliArgs } from '../../src/cli/args.js';
import { driftLines } from '../../src/cli/run.js';
import type { JobClient } from '../../src/ports/job-client.js';
import { InMemoryJobClient } from '../../src/testing/in-memory-job-client.js';
import { writeProject } from '../helpers/project.js';
import { cli } from './run-cli.js';

/**
 * `run --rerun-changed`, and what `run` prints when a resumed run finds a block's config changed. The
 * runs share one cluster (an in-memory one, kept between the CLI's runs as a real cluster would be).
 */

const cluster = vi.hoisted(() => ({ client: undefined as JobClient | undefined }));
vi.mock('../../src/create.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/create.js')>();
  return {
    ...real,
    createExecutors: (options: Parameters<typeof real.createExecutors>[0]) =>
      real.createExecutors({ ...options, ...(cluster.client ? { jobClient: cluster.client } : {}) }),
  };
});

afterEach(() => {
  cluster.client = undefined;
  vi.restoreAllMocks();
});

const pipelineYaml = (memory: string) => `uuid: etl
blocks:
  - uuid: load
    executor_config:
      resource_limits:
        memory: ${memory}
  - uuid: report
    upstream_blocks: [load]
`;

describe('run --rerun-changed', () => {
  it('is a flag of run only, without a value', () => {
    expect(parseCliArgs(['run', '--project', 'p', '--pipeline', 'etl', '--rerun-changed']).rerunChanged).toBe(
      true,
    );
    expect(parseCliArgs(['run', '--project', 'p', '--pipeline', 'etl']).rerunChanged).toBe(false);
    expect(() => parseCliArgs(['run', '--rerun-changed=yes'])).toThrow(/--rerun-changed takes no value/);
    expect(() => parseCliArgs(['render', '--rerun-changed'])).toThrow(
      /unknown option --rerun-changed for "render"/,
    );
  });

  it('is listed in the help of run', async () => {
    expect((await cli(['help', 'run'])).stdout).toContain('--rerun-changed');
  });

  it('is a usage error in single-job mode', async () => {
    const dir = writeProject({
      'metadata.yaml': 'executor_type: k8s\nk8s_executor_config:\n  container: {image: busybox:1.36}\n',
      'pipelines/etl/metadata.yaml': pipelineYaml('2Gi'),
    });
    const { code, stderr } = await cli([
      'run',
      '--project',
      dir,
      '--pipeline',
      'etl',
      '--mode',
      'single-job',
      '--rerun-changed',
    ]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/--rerun-changed is for dag runs/);
  });

  it('says what changed on resume, keeps the succeeded block, and runs it again when asked', async () => {
    cluster.client = new InMemoryJobClient();
    const dir = writeProject({
      'metadata.yaml': 'executor_type: k8s\nk8s_executor_config:\n  container: {image: busybox:1.36}\n',
      'pipelines/etl/metadata.yaml': pipelineYaml('2Gi'),
    });
    const run = (...more: string[]) =>
      cli(['run', '--project', dir, '--pipeline', 'etl', '--pipeline-run-id', '7', '--keep-jobs', ...more]);
    expect((await run()).code).toBe(0);
    writeFileSync(join(dir, 'pipelines/etl/metadata.yaml'), pipelineYaml('4Gi'));
    const change = `container.resources.limits.memory 2Gi → 4Gi, set in ${join(dir, 'pipelines/etl/metadata.yaml')}:6`;

    const kept = await run();
    expect(kept.code).toBe(0);
    expect(kept.stdout).toContain(
      '  [load] warning: config changed since attempt 1 (succeeded, Job mage-data-prep-block-7-load); its outcome stands (--rerun-changed runs it again):\n',
    );
    expect(kept.stdout).toContain(`  [load]   ${change}\n`);
    expect(kept.stdout).not.toContain('[report] warning');
    expect(kept.stdout).toMatch(/^load +succeeded +1 /m);

    const rerun = await run('--rerun-changed');
    expect(rerun.code).toBe(0);
    expect(rerun.stdout).toContain(
      '[load] warning: config changed since attempt 1 (succeeded, Job mage-data-prep-block-7-load); run again as attempt 2:',
    );
    expect(rerun.stdout).toMatch(/^load +succeeded +2 /m);
    expect(rerun.stdout).toMatch(/^report +succeeded +1 /m);
  });
});

describe('the drift lines', () => {
  it('say what the run does for each kind of earlier attempt', () => {
    const event = {
      type: 'config-drift' as const,
      blockUuid: 'load',
      attempt: 2,
      jobName: 'j',
      changes: ['pod.nodeSelector.pool gpu → (not set)'],
      at: 0,
    };
    expect(driftLines({ ...event, earlier: 'active', action: 'adopted' })).toEqual([
      'warning: config changed since attempt 2 (active, Job j); it is still running and is followed as it is:',
      '  pod.nodeSelector.pool gpu → (not set)',
    ]);
    expect(driftLines({ ...event, earlier: 'failed', action: 'retried' })[0]).toBe(
      'warning: config changed since attempt 2 (failed, Job j); attempt 3 runs the config now:',
    );
    expect(driftLines({ ...event, earlier: 'failed', action: 'kept' })[0]).toBe(
      'warning: config changed since attempt 2 (failed, Job j); its outcome stands:',
    );
  });
});
