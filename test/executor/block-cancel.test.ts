/**
 * A cancel deletes exactly what this run created or adopted, and nothing else: deletes carry the uid
 * of the run's Job; a cancel that races the create lets it settle (the API server commits the Job even
 * when the client stops waiting) and deletes a Job admitted late; a foreign Job of the same name is
 * never touched; the result says what happened. Also: a re-run that meets its earlier Job being
 * deleted waits for it and creates anew, and a throwing callback changes no outcome.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CALLBACK_WARNING_CODE } from '../../src/errors/isolate-callback.js';
import { K8sBlockExecutor } from '../../src/executor/block-executor.js';
import { CREATE_SETTLE_MS } from '../../src/executor/run-job.js';
import type { CallOptions, DeleteOptions } from '../../src/ports/job-client.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { InMemoryJobClient } from '../../src/testing/in-memory-job-client.js';
import { StaticConfigSource } from '../../src/testing/static-config-source.js';
import type { Job } from '../../src/types/kube.js';
import { drive } from '../helpers/drive.js';
import { projectFiles } from '../helpers/project.js';

const NAME = 'mage-data-prep-block-42';
const RUN = { pipelineUuid: 'etl', blockUuid: 'load', pipelineRunId: 7, blockRunId: 42 };

/**
 * Creates take `admissionMs` on the "server" (a mutating webhook); an abort only abandons the client's
 * wait, the Job is committed all the same. Deletes are recorded with their options.
 */
class SlowAdmission extends InMemoryJobClient {
  readonly deletes: { name: string; options: DeleteOptions | undefined }[] = [];
  /** The uids of the Jobs the server committed, in order. */
  readonly admitted: string[] = [];

  constructor(
    private readonly c: FakeClock,
    private readonly admissionMs: number,
  ) {
    super({ clock: c });
  }

  override createJob(
    namespace: string,
    job: Job,
    options?: CallOptions & { dryRun?: boolean },
  ): Promise<Job> {
    const server = this.c.sleep(this.admissionMs).then(async () => {
      const created = await super.createJob(namespace, job, {});
      this.admitted.push(created.metadata.uid!);
      return created;
    });
    return new Promise<Job>((resolve, reject) => {
      options?.signal?.addEventListener('abort', () => reject(options.signal?.reason), { once: true });
      server.then(resolve, reject);
    });
  }

  override deleteJob(namespace: string, name: string, options?: DeleteOptions): Promise<boolean> {
    this.deletes.push({ name, options });
    return super.deleteJob(namespace, name, options);
  }
}

function executorOver(jobClient: InMemoryJobClient, clock: FakeClock) {
  return new K8sBlockExecutor({
    configSource: new StaticConfigSource(projectFiles('  - uuid: load\n    executor_type: k8s\n')),
    jobClient,
    clock,
    logDrainMs: 100,
  });
}

/** Someone else's Job that happens to have the name (no k8s-executor identity labels). */
const foreignJob = (): Job => ({
  metadata: { name: NAME, labels: { team: 'payments' } },
  spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'payments:1' }] } } },
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe('cancel while the create is in flight', () => {
  it('lets the create settle and deletes the Job admitted late, by its uid: no Job is left behind', async () => {
    const clock = new FakeClock();
    const jobClient = new SlowAdmission(clock, 500);
    jobClient.script(NAME, [{ runMs: 60 * 60_000 }]);
    const executor = executorOver(jobClient, clock);
    const cancel = new AbortController();
    const pending = executor.execute(RUN, { signal: cancel.signal });
    await clock.advance(100);
    cancel.abort(new Error('user pressed Ctrl-C'));
    const result = await drive(clock, pending, 100);
    await clock.advance(1000);
    executor.close();
    expect(result.status).toBe('cancelled');
    expect(jobClient.jobs()).toEqual([]);
    const [uid] = jobClient.admitted;
    expect(jobClient.admitted).toHaveLength(1);
    expect(jobClient.deletes).toEqual([{ name: NAME, options: { propagationPolicy: 'Foreground', uid } }]);
    expect(result.message).toBe(
      `Cancelled during submission. Job "${NAME}" (uid ${uid}) was deleted with its pods.`,
    );
    expect(result.cleanupError).toBeUndefined();
  });

  it('over a foreign Job of the same name: leaves it alone and says so', async () => {
    const clock = new FakeClock();
    const jobClient = new SlowAdmission(clock, 300);
    jobClient.script(NAME, [{ hang: true }]);
    await InMemoryJobClient.prototype.createJob.call(jobClient, 'default', foreignJob());
    const executor = executorOver(jobClient, clock);
    const cancel = new AbortController();
    const pending = executor.execute(RUN, { signal: cancel.signal });
    await clock.advance(100);
    cancel.abort(new Error('user pressed Ctrl-C'));
    const result = await drive(clock, pending, 100);
    await clock.advance(1000);
    executor.close();
    const foreign = jobClient.jobs().find((j) => j.metadata.labels?.team === 'payments');
    expect(foreign).toBeDefined();
    expect(foreign?.metadata.deletionTimestamp).toBeUndefined();
    expect(jobClient.deletes).toEqual([]);
    expect(result.status).toBe('cancelled');
    expect(result.message).toMatch(
      /A Job "mage-data-prep-block-42" exists that this run did not create .*left alone/,
    );
  });

  it('waits at most CREATE_SETTLE_MS for a create that does not settle, then says what may be left', async () => {
    const clock = new FakeClock();
    const jobClient = new SlowAdmission(clock, 10 * 60_000);
    const executor = executorOver(jobClient, clock);
    const cancel = new AbortController();
    const pending = executor.execute(RUN, { signal: cancel.signal });
    await clock.advance(100);
    const cancelledAt = clock.now();
    cancel.abort(new Error('user pressed Ctrl-C'));
    const result = await drive(clock, pending, 1000);
    executor.close();
    expect(result.timings.finishedAt - cancelledAt).toBe(CREATE_SETTLE_MS);
    expect(result.status).toBe('cancelled');
    expect(result.message).toMatch(
      /had not settled after 30 s and no such Job exists yet; if it appears later .*kubectl delete job/,
    );
    expect(result.cleanupError).toBe(result.message?.replace('Cancelled during submission. ', ''));
  });

  it('a create that fails after the cancel: the name is read again and nothing is deleted when there is nothing', async () => {
    const clock = new FakeClock();
    const jobClient = new InMemoryJobClient({ clock });
    const executor = executorOver(jobClient, clock);
    const cancel = new AbortController();
    vi.spyOn(jobClient, 'createJob').mockImplementation(async () => {
      cancel.abort(new Error('Ctrl-C'));
      throw new Error('socket hang up');
    });
    const result = await drive(clock, executor.execute(RUN, { signal: cancel.signal }));
    executor.close();
    expect(result.message).toBe(
      `Cancelled during submission. No Job was created (the create did not go through and no Job "${NAME}" exists).`,
    );
    expect(jobClient.calls.filter((c) => c.method === 'deleteJob')).toEqual([]);
  });
});

describe('cancel while running', () => {
  it('deletes the Job by the uid of the Job this run created', async () => {
    const clock = new FakeClock();
    const jobClient = new SlowAdmission(clock, 0);
    jobClient.script(NAME, [{ hang: true }]);
    const executor = executorOver(jobClient, clock);
    const cancel = new AbortController();
    const pending = executor.execute(RUN, {
      signal: cancel.signal,
      onEvent: (e) => e.type === 'running' && cancel.abort(new Error('Ctrl-C')),
    });
    const result = await drive(clock, pending);
    executor.close();
    const [uid] = jobClient.admitted;
    expect(jobClient.admitted).toHaveLength(1);
    expect(jobClient.deletes).toEqual([{ name: NAME, options: { propagationPolicy: 'Foreground', uid } }]);
    expect(result.message).toBe(
      `Cancelled while running. Job "${NAME}" (uid ${uid}) was deleted with its pods.`,
    );
    expect(jobClient.jobs()).toEqual([]);
  });

  it('leaves alone a Job that replaced ours under the same name, and says so', async () => {
    const clock = new FakeClock();
    const jobClient = new SlowAdmission(clock, 0);
    jobClient.script(NAME, [{ hang: true }]);
    const executor = executorOver(jobClient, clock);
    const cancel = new AbortController();
    const realDelete = jobClient.deleteJob.bind(jobClient);
    // Just before our delete lands, someone deletes our Job and creates their own of that name.
    vi.spyOn(jobClient, 'deleteJob').mockImplementation(async (namespace, name, options) => {
      jobClient.deleteFromOutside(namespace, name);
      await InMemoryJobClient.prototype.createJob.call(jobClient, namespace, foreignJob());
      return realDelete(namespace, name, options);
    });
    const pending = executor.execute(RUN, {
      signal: cancel.signal,
      onEvent: (e) => e.type === 'running' && cancel.abort(new Error('Ctrl-C')),
    });
    const result = await drive(clock, pending);
    executor.close();
    const [uid] = jobClient.admitted;
    expect(result.status).toBe('cancelled');
    expect(result.message).toBe(
      `Cancelled while running. This run's Job "${NAME}" (uid ${uid}) is gone, and the Job that now holds its name is another one: it was left alone.`,
    );
    expect(jobClient.jobs().map((j) => j.metadata.labels?.team)).toEqual(['payments']);
  });
});

describe('cancel from inside the final event', () => {
  for (const [exitCode, final] of [
    [0, 'succeeded'],
    [1, 'failed'],
  ] as const)
    it(`an abort in onEvent('${final}') changes no outcome: ${final}, onDetected called, Job cleaned up as usual`, async () => {
      const clock = new FakeClock();
      const jobClient = new InMemoryJobClient({ clock });
      jobClient.script(NAME, [{ runMs: 1000, exitCode }]);
      const executor = executorOver(jobClient, clock);
      const cancel = new AbortController();
      const seen: string[] = [];
      const result = await drive(
        clock,
        executor.execute(RUN, {
          signal: cancel.signal,
          onEvent: (event) => {
            seen.push(event.type);
            if (event.type === final) cancel.abort(); // a fail-fast orchestrator, synchronously
          },
          onDetected: (detection) => seen.push(`detected ${detection.status}`),
        }),
      );
      executor.close();
      expect(result.status).toBe(final);
      expect(seen.slice(-2)).toEqual([final, `detected ${final}`]);
      expect(jobClient.jobs()).toEqual([]);
    });
});

describe('a re-run that finds its earlier Job being deleted', () => {
  it('waits for it to be gone and then creates the Job anew (not JOB_DELETED)', async () => {
    const clock = new FakeClock();
    const jobClient = new InMemoryJobClient({ clock });
    // The first run's pod takes 20 s to stop: its Foreground deletion keeps the Job that long.
    jobClient.script(NAME, [{ hang: true, stopMs: 20_000 }]);
    const executor = executorOver(jobClient, clock);
    const first = new AbortController();
    const cancelled = executor.execute(RUN, {
      signal: first.signal,
      onEvent: (e) => e.type === 'running' && first.abort(new Error('Ctrl-C')),
    });
    expect((await drive(clock, cancelled)).status).toBe('cancelled');
    expect(jobClient.jobs()[0]?.metadata.deletionTimestamp).toBeDefined();
    jobClient.script(NAME, [{ runMs: 1000, logs: ['second run'] }]);
    const lines: string[] = [];
    const result = await drive(clock, executor.execute(RUN, { onLog: (l) => lines.push(l.line) }));
    executor.close();
    expect(result).toMatchObject({ status: 'succeeded', adopted: false });
    expect(lines).toEqual(['second run']);
    expect(jobClient.createdJobs.length).toBe(3); // the first, the refused one (409), the new one
    expect(result.timings.finishedAt - result.timings.submittedAt).toBeGreaterThanOrEqual(20_000);
  });

  it('gives up after the documented bound with JOB_NAME_COLLISION, naming what holds it', async () => {
    const clock = new FakeClock();
    const jobClient = new InMemoryJobClient({ clock });
    jobClient.script(NAME, [{ hang: true, stopMs: 60 * 60_000 }]);
    const executor = executorOver(jobClient, clock);
    const first = new AbortController();
    await drive(
      clock,
      executor.execute(RUN, {
        signal: first.signal,
        onEvent: (e) => e.type === 'running' && first.abort(new Error('Ctrl-C')),
      }),
    );
    const started = clock.now();
    const error = await drive(clock, executor.execute(RUN), 1000).catch((e: unknown) => e);
    executor.close();
    expect(error).toMatchObject({ code: 'JOB_NAME_COLLISION' });
    expect((error as Error).message).toMatch(
      /being deleted since .*finalizers: foregroundDeletion.*after 5 min/,
    );
    expect(clock.now() - started).toBeGreaterThanOrEqual(5 * 60_000);
    expect(clock.now() - started).toBeLessThan(5 * 60_000 + 15_000);
  });
});

describe('a throwing onEvent', () => {
  it('on `submitted` changes nothing: the block runs to its end and its Job is cleaned up', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const clock = new FakeClock();
    const jobClient = new InMemoryJobClient({ clock });
    jobClient.script(NAME, [{ runMs: 2000 }]);
    const executor = executorOver(jobClient, clock);
    const result = await drive(
      clock,
      executor.execute(RUN, {
        onEvent: (e) => {
          if (e.type === 'submitted') throw new Error('dashboard down');
        },
      }),
    );
    executor.close();
    expect(result.status).toBe('succeeded');
    expect(jobClient.jobs()).toEqual([]);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]?.[1]).toMatchObject({ code: CALLBACK_WARNING_CODE });
  });
});
