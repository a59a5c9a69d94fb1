import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalJobClient } from '../../../src/adapters/local/local-job-client.js';
import { TERMINATION_MESSAGE_PATH_ENV } from '../../../src/adapters/local/process-runner.js';
import type { Job, Pod } from '../../../src/types/kube.js';
import { fixtureJob } from './job-fixture.js';

const NS = 'default';
let client: LocalJobClient | undefined;

afterEach(async () => {
  await client?.close();
  client = undefined;
});

/** A Job whose container runs `node -e <script>`. */
function nodeJob(name: string, script: string, container = {}): Job {
  return fixtureJob(name, {}, { command: [process.execPath, '-e', script], ...container });
}

/** The Job's pod once its container has terminated. */
async function terminatedPod(c: LocalJobClient, jobName: string): Promise<Pod> {
  for (;;) {
    const { items } = await c.listPods(NS, `job-name=${jobName}`);
    const pod = items[0];
    if (pod?.status?.containerStatuses?.[0]?.state?.terminated) return pod;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const WRITE = (text: string) =>
  `require('node:fs').writeFileSync(process.env.${TERMINATION_MESSAGE_PATH_ENV}, ${JSON.stringify(text)})`;

describe('LocalJobClient termination messages', () => {
  it('reports what the process wrote to its termination message file, and removes the file', async () => {
    client = new LocalJobClient();
    const script = `${WRITE('{"rows": 42}')}; console.log(process.env.${TERMINATION_MESSAGE_PATH_ENV})`;
    await client.createJob(NS, nodeJob('writes', script));
    const pod = await terminatedPod(client, 'writes');
    expect(pod.status?.containerStatuses?.[0]?.state?.terminated?.message).toBe('{"rows": 42}');
    const [path] = (await client.readPodLog(NS, pod.metadata.name!)).split('\n');
    expect(path).toMatch(/termination-log$/);
    expect(existsSync(path!)).toBe(false);
  });

  it('keeps the first 4096 bytes, as the kubelet reads the file, never cutting a character', async () => {
    client = new LocalJobClient();
    await client.createJob(NS, nodeJob('long', WRITE(`a${'é'.repeat(3000)}`)));
    const pod = await terminatedPod(client, 'long');
    const message = pod.status?.containerStatuses?.[0]?.state?.terminated?.message ?? '';
    expect(Buffer.byteLength(message)).toBe(4095); // 'a' + 2047 two-byte characters
    expect(message.endsWith('é')).toBe(true);
  });

  it('falls back to the end of the log for a failed process that wrote nothing, under FallbackToLogsOnError', async () => {
    client = new LocalJobClient();
    const script = "console.error('step 1'); console.error('boom: disk full'); process.exit(2)";
    await client.createJob(
      NS,
      nodeJob('fallback', script, { terminationMessagePolicy: 'FallbackToLogsOnError' }),
    );
    await client.createJob(NS, nodeJob('file-policy', script));
    const fallback = await terminatedPod(client, 'fallback');
    expect(fallback.status?.containerStatuses?.[0]?.state?.terminated?.message).toBe(
      'step 1\nboom: disk full',
    );
    const file = await terminatedPod(client, 'file-policy');
    expect(file.status?.containerStatuses?.[0]?.state?.terminated?.message).toBeUndefined();
  });
});
