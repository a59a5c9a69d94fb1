import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { describeLoss, OutputGuard } from '../../src/cli/safe-output.js';
import { writeProject } from '../helpers/project.js';
import { cli } from './run-cli.js';

afterEach(() => vi.restoreAllMocks());

const epipe = () => Object.assign(new Error('write EPIPE'), { code: 'EPIPE' });

function guarded() {
  const streams = { stdout: new EventEmitter(), stderr: new EventEmitter() };
  return { streams, guard: OutputGuard.install(streams) };
}

describe('OutputGuard', () => {
  it('turns a write error into one loss, the first; later errors are handled and change nothing', () => {
    const { streams, guard } = guarded();
    const seen: unknown[] = [];
    guard.onLost((loss) => seen.push(loss));
    streams.stdout.emit('error', epipe());
    streams.stdout.emit('error', epipe());
    streams.stderr.emit('error', Object.assign(new Error('EIO'), { code: 'EIO' }));
    expect(seen).toEqual([{ stream: 'stdout', code: 'EPIPE' }]);
    expect(guard.lost).toEqual({ stream: 'stdout', code: 'EPIPE' });
  });

  it('tells a listener added after the loss at once, and not one that was removed', () => {
    const { streams, guard } = guarded();
    const removed = vi.fn();
    guard.onLost(removed)();
    streams.stderr.emit('error', epipe());
    const late = vi.fn();
    guard.onLost(late);
    expect(removed).not.toHaveBeenCalled();
    expect(late).toHaveBeenCalledWith({ stream: 'stderr', code: 'EPIPE' });
  });

  it('names the stream, and the code unless it is EPIPE', () => {
    expect(describeLoss({ stream: 'stdout', code: 'EPIPE' })).toBe('stdout closed');
    expect(describeLoss({ stream: 'stderr', code: 'ENOSPC' })).toBe('stderr cannot be written (ENOSPC)');
  });
});

/** A project whose pipeline `etl` runs a block `load` that prints and then sleeps, and a block after it. */
function sleepyProject() {
  return writeProject({
    'metadata.yaml': `executor_type: k8s
k8s_executor_config:
  container:
    image: busybox:1.36
    command: ["sh", "-c", "echo started; sleep 30"]
`,
    'pipelines/etl/metadata.yaml':
      'uuid: etl\nblocks:\n  - uuid: load\n  - uuid: report\n    upstream_blocks: [load]\n',
  });
}

const run = (dir: string) => ['run', '--local', '--project', dir, '--pipeline', 'etl'];

describe('k8s-executor run, cancelled from outside', () => {
  it.each([
    ['stdout', 141, 'stdout closed'],
    ['stderr', 141, 'stderr closed'],
  ] as const)(
    'a closed %s cancels the run (exit %i)',
    async (stream, exitCode, notice) => {
      const { streams, guard } = guarded();
      let sent = false;
      const { code, stdout, stderr } = await cli(
        run(sleepyProject()),
        {},
        (text) => {
          if (!sent && text.includes('[load] started')) {
            sent = true;
            setImmediate(() => streams[stream].emit('error', epipe()));
          }
        },
        guard,
      );
      expect(sent).toBe(true);
      expect(code).toBe(exitCode);
      expect(stderr).toContain(`${notice}: cancelling, deleting the Jobs this run created`);
      expect(stdout).toMatch(/Pipeline etl CANCELLED/);
    },
    30_000,
  );

  it('any other write error cancels the run too, exit 1', async () => {
    const { streams, guard } = guarded();
    let sent = false;
    const { code, stderr } = await cli(
      run(sleepyProject()),
      {},
      (text) => {
        if (!sent && text.includes('[load] started')) {
          sent = true;
          setImmediate(() => streams.stdout.emit('error', Object.assign(new Error('x'), { code: 'ENOSPC' })));
        }
      },
      guard,
    );
    expect(code).toBe(1);
    expect(stderr).toContain('stdout cannot be written (ENOSPC): cancelling');
  }, 30_000);

  it.each([
    ['SIGHUP', 129],
    ['SIGTERM', 143],
  ] as const)(
    '%s cancels the run like Ctrl-C (exit %i)',
    async (signal, exitCode) => {
      let sent = false;
      const { code, stdout, stderr } = await cli(run(sleepyProject()), {}, (text) => {
        if (!sent && text.includes('[load] started')) {
          sent = true;
          setImmediate(() => process.emit(signal, signal));
        }
      });
      expect(sent).toBe(true);
      expect(code).toBe(exitCode);
      expect(stderr).toContain(`${signal}: cancelling, deleting the Jobs this run created`);
      expect(stdout).toMatch(/Pipeline etl CANCELLED/);
      expect(process.listenerCount(signal)).toBe(0);
    },
    30_000,
  );
});
