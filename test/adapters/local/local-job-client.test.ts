import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LocalJobClient, type LocalJobClientOptions } from '../../../src/adapters/local/local-job-client.js';
import type { Job, Pod } from '../../../src/types/kube.js';
import { fixtureJob } from './job-fixture.js';

const NS = 'default';
const NODE = process.execPath;
let client: LocalJobClient | undefined;

afterEach(async () => {
  await client?.close();
  client = undefined;
});

function start(options: LocalJobClientOptions = {}): LocalJobClient {
  client = new LocalJobClient({ killGraceMs: 300, ...options });
  return client;
}

/** A Job whose container runs `node -e <script>`. */
function nodeJob(
  name: string,
  script: string,
  spec: Parameters<typeof fixtureJob>[1] = {},
  container = {},
): Job {
  return fixtureJob(name, spec, { command: [NODE, '-e', script], ...container });
}

/** Resolves with the Job once `done(job)` holds (or with the last state when it is deleted). */
async function untilJob(
  c: LocalJobClient,
  name: string,
  done: (job: Job, deleted: boolean) => boolean,
): Promise<Job> {
  const stop = new AbortController();
  return new Promise<Job>((resolve, reject) => {
    c.watchJobs(
      NS,
      (event) => {
        if (event.object.metadata.name !== name) return;
        if (done(event.object, event.type === 'DELETED')) {
          stop.abort();
          resolve(event.object);
        }
      },
      { signal: stop.signal },
    ).catch((error: unknown) => (stop.signal.aborted ? undefined : reject(error)));
  });
}

const finished = (job: Job) =>
  (job.status?.conditions ?? []).some((c) => c.type === 'Complete' || c.type === 'Failed');
const finalCondition = (job: Job) =>
  job.status?.conditions?.find((c) => c.type === 'Complete' || c.type === 'Failed');

async function podsOf(c: LocalJobClient, jobName: string): Promise<Pod[]> {
  const { items } = await c.listPods(NS, `job-name=${jobName}`);
  return items.sort((a, b) => Number(a.metadata.resourceVersion) - Number(b.metadata.resourceVersion));
}

/** Waits for `count` log lines of the Job's running pod and returns them. */
async function firstLines(c: LocalJobClient, jobName: string, count: number): Promise<string[]> {
  await untilJob(c, jobName, (job) => (job.status?.ready ?? 0) > 0);
  const [pod] = await podsOf(c, jobName);
  const lines: string[] = [];
  const stop = new AbortController();
  await new Promise<void>((resolve, reject) => {
    c.followPodLog(
      NS,
      pod!.metadata.name!,
      (line) => {
        lines.push(line);
        if (lines.length === count) resolve();
      },
      { signal: stop.signal },
    ).catch((error: unknown) => (stop.signal.aborted ? undefined : reject(error)));
  });
  stop.abort();
  return lines;
}

/** A dead process: gone (ESRCH), or a zombie waiting for init to reap it (slow in some sandboxes). */
function isGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z') ?? false;
  } catch {
    return true;
  }
}

/** Prints its own pid and a sleeping grandchild's pid, then sleeps. */
const PARENT_WITH_GRANDCHILD = `
  const { spawn } = require('node:child_process');
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  console.log(process.pid);
  console.log(child.pid);
  setInterval(() => {}, 1000);
`;

describe('LocalJobClient', () => {
  it('runs the command to Complete and keeps stdout and stderr lines, the last one without a newline', async () => {
    const c = start();
    await c.createJob(
      NS,
      nodeJob('hello', `console.log('out 1'); console.error('err 1'); process.stdout.write('partial')`),
    );
    const job = await untilJob(c, 'hello', finished);
    expect(finalCondition(job)?.type).toBe('Complete');
    const [pod] = await podsOf(c, 'hello');
    expect(pod?.status?.containerStatuses?.[0]?.state?.terminated).toMatchObject({
      exitCode: 0,
      reason: 'Completed',
    });
    const lines = (await c.readPodLog(NS, pod!.metadata.name!)).split('\n');
    expect(lines.sort()).toEqual(['', 'err 1', 'out 1', 'partial']);
  });

  it('fails the Job with the exit code of the process', async () => {
    const c = start();
    await c.createJob(NS, nodeJob('three', 'process.exit(3)'));
    const job = await untilJob(c, 'three', finished);
    expect(finalCondition(job)).toMatchObject({ type: 'Failed', reason: 'BackoffLimitExceeded' });
    const [pod] = await podsOf(c, 'three');
    expect(pod?.status?.containerStatuses?.[0]?.state?.terminated).toMatchObject({
      exitCode: 3,
      reason: 'Error',
    });
  });

  it('retries a failing process up to backoffLimit: two pods for backoffLimit 1', async () => {
    const c = start();
    await c.createJob(NS, nodeJob('retry', 'process.exit(1)', { backoffLimit: 1 }));
    const job = await untilJob(c, 'retry', finished);
    expect(job.status).toMatchObject({ failed: 2 });
    expect((await podsOf(c, 'retry')).map((p) => p.status?.phase)).toEqual(['Failed', 'Failed']);
  });

  it('stops the whole process group when activeDeadlineSeconds passes', async () => {
    const c = start();
    await c.createJob(NS, nodeJob('deadline', PARENT_WITH_GRANDCHILD, { activeDeadlineSeconds: 1 }));
    const pids = (await firstLines(c, 'deadline', 2)).map(Number);
    const job = await untilJob(c, 'deadline', finished);
    expect(finalCondition(job)).toMatchObject({ type: 'Failed', reason: 'DeadlineExceeded' });
    await vi.waitFor(() => expect(pids.map(isGone)).toEqual([true, true]), { timeout: 3_000 });
  });

  it('kills the process group when the Job is deleted', async () => {
    const c = start();
    await c.createJob(NS, nodeJob('cancel', PARENT_WITH_GRANDCHILD));
    const pids = (await firstLines(c, 'cancel', 2)).map(Number);
    const deleted = untilJob(c, 'cancel', (_job, isDeleted) => isDeleted);
    expect(await c.deleteJob(NS, 'cancel')).toBe(true);
    await deleted;
    await vi.waitFor(() => expect(pids.map(isGone)).toEqual([true, true]), { timeout: 3_000 });
    expect(await podsOf(c, 'cancel')).toEqual([]);
  });

  it('deletes only the Job of the uid it is given: another Job of that name is left running', async () => {
    const c = start();
    const created = await c.createJob(NS, nodeJob('precond', PARENT_WITH_GRANDCHILD));
    await firstLines(c, 'precond', 1);
    await expect(c.deleteJob(NS, 'precond', { uid: 'not-this-one' })).rejects.toMatchObject({
      code: 'API_CONFLICT',
    });
    expect((await c.getJob(NS, 'precond'))?.metadata.deletionTimestamp).toBeUndefined();
    const deleted = untilJob(c, 'precond', (_job, isDeleted) => isDeleted);
    expect(await c.deleteJob(NS, 'precond', { uid: created.metadata.uid! })).toBe(true);
    await deleted;
  });

  it('passes env values, the base env and HOSTNAME; skips valueFrom with a warning event', async () => {
    const c = start({ env: { EXTRA: 'from-options' } });
    const env = [
      { name: 'GREETING', value: 'hello' },
      { name: 'DERIVED', value: '$(GREETING) world' },
      { name: 'SECRET', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } },
    ];
    await c.createJob(NS, nodeJob('env', 'console.log(JSON.stringify(process.env))', {}, { env }));
    await untilJob(c, 'env', finished);
    const [pod] = await podsOf(c, 'env');
    const seen = JSON.parse(await c.readPodLog(NS, pod!.metadata.name!)) as Record<string, string>;
    expect(seen).toMatchObject({
      GREETING: 'hello',
      DERIVED: 'hello world',
      EXTRA: 'from-options',
      HOSTNAME: pod!.metadata.name,
    });
    expect(seen.SECRET).toBeUndefined();
    // nothing else of this process's environment leaks in (beside the termination message file's path)
    const base = ['PATH', 'HOME'].filter((k) => process.env[k] !== undefined);
    const own = ['DERIVED', 'EXTRA', 'GREETING', 'HOSTNAME', 'K8S_EXECUTOR_TERMINATION_MESSAGE_PATH'];
    expect(Object.keys(seen).sort()).toEqual([...base, ...own].sort());
    const events = await c.listWarningEvents(NS, { kind: 'Pod', name: pod!.metadata.name! });
    expect(events.map((e) => e.reason)).toEqual(['LocalSettingIgnored']);
    expect(events[0]?.message).toContain('env SECRET uses valueFrom');
  });

  it('refuses a container without a command with LOCAL_NO_COMMAND before anything runs', async () => {
    const c = start();
    const job = fixtureJob('nocmd', {}, { command: undefined, args: ['--verbose'] });
    await expect(c.createJob(NS, job)).rejects.toMatchObject({
      code: 'LOCAL_NO_COMMAND',
      message: expect.stringMatching(/"nocmd".*"mage-job-container".*container\.command/s),
    });
    expect((await c.listJobs(NS, '')).items).toEqual([]);
  });

  it('ends a command that cannot be found with exit code 127 and a clear message', async () => {
    const c = start();
    await c.createJob(NS, fixtureJob('enoent', {}, { command: ['definitely-not-a-command-k8s-executor'] }));
    const job = await untilJob(c, 'enoent', finished);
    expect(finalCondition(job)?.type).toBe('Failed');
    const [pod] = await podsOf(c, 'enoent');
    expect(pod?.status?.containerStatuses?.[0]?.state?.terminated).toMatchObject({
      exitCode: 127,
      reason: 'StartError',
      message: expect.stringContaining('"definitely-not-a-command-k8s-executor": executable file not found'),
    });
  });

  it('keeps pods beyond maxConcurrentProcesses in ContainerCreating until a process slot frees', async () => {
    const c = start({ maxConcurrentProcesses: 1 });
    await c.createJob(NS, nodeJob('first', 'setInterval(() => {}, 1000)'));
    await untilJob(c, 'first', (job) => (job.status?.ready ?? 0) > 0);
    await c.createJob(NS, nodeJob('second', 'console.log("ran")'));
    const waiting = await untilJob(c, 'second', (job) => (job.status?.active ?? 0) > 0);
    expect(waiting.status?.ready).toBe(0);
    const [queued] = await podsOf(c, 'second');
    expect(queued?.status?.containerStatuses?.[0]?.state?.waiting?.reason).toBe('ContainerCreating');
    await c.deleteJob(NS, 'first');
    expect(finalCondition(await untilJob(c, 'second', finished))?.type).toBe('Complete');
  });

  it('close() stops every running process', async () => {
    const c = start();
    await c.createJob(NS, nodeJob('closing', PARENT_WITH_GRANDCHILD));
    const pids = (await firstLines(c, 'closing', 2)).map(Number);
    await c.close();
    await vi.waitFor(() => expect(pids.map(isGone)).toEqual([true, true]), { timeout: 3_000 });
    const [pod] = await podsOf(c, 'closing');
    expect(pod?.status?.containerStatuses?.[0]?.state?.terminated?.exitCode).toBe(143);
  });
});

describe('the downward API on the local backend', () => {
  it("resolves the pod's own fields (name, namespace, uid, node, service account, IPs); other valueFrom still warns", async () => {
    const { containerEnv } = await import('../../../src/adapters/local/container-env.js');
    const pod = {
      metadata: { name: 'job-abcde', namespace: 'etl', uid: 'u-1' },
      spec: { serviceAccountName: 'runner', nodeName: 'laptop', containers: [] },
    };
    const ref = (name: string, fieldPath: string) => ({ name, valueFrom: { fieldRef: { fieldPath } } });
    const { env, skipped } = containerEnv(
      {
        name: 'main',
        env: [
          ref('POD', 'metadata.name'),
          ref('NS', 'metadata.namespace'),
          ref('UID', 'metadata.uid'),
          ref('NODE', 'spec.nodeName'),
          ref('SA', 'spec.serviceAccountName'),
          ref('IP', 'status.hostIP'),
          { name: 'DERIVED', value: '$(POD)-x' },
          { name: 'CPU', valueFrom: { resourceFieldRef: { resource: 'limits.cpu' } } },
        ],
      },
      {},
      pod,
    );
    expect(env).toEqual({
      POD: 'job-abcde',
      NS: 'etl',
      UID: 'u-1',
      NODE: 'laptop',
      SA: 'runner',
      IP: '127.0.0.1',
      DERIVED: 'job-abcde-x',
    });
    expect(skipped).toEqual([
      'env CPU uses valueFrom, which the local backend cannot resolve: it is not set.',
    ]);
  });
});
