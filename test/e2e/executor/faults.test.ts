// Faults of a real control plane while blocks run (issue 9): the kube-apiserver stopped for ~10 s and
// started again, a ServiceAccount token rotated in a `tokenFile`, a Job suspended and resumed as Kueue
// preempts and re-admits it. Each case checks the block's true final state and that every log line
// was delivered exactly once. Needs `bash test/e2e/run.sh`.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import type { BlockEvent, BlockResult, BlockRun } from '../../../src/executor/types.js';
import { knownLogLines } from '../cluster/fates.js';
import { adminKubeConfig, eventually, fatesAvailable, useTestNamespace } from './support/cluster.js';
import { E2E_PIPELINE, e2eExecutors, e2eProject } from './support/executors.js';
import {
  apiServerRestartable,
  appendPodLogLine,
  restartApiServer,
  savePodLog,
  setJobSuspended,
} from './support/faults.js';
import { applyDocumentedRole } from './support/rbac-doc.js';
import { rotatingToken } from './support/token.js';

const KNOWN_LINES = knownLogLines().map((line) => line.text);

function runOf(blockUuid: string): BlockRun {
  return {
    pipelineUuid: E2E_PIPELINE,
    blockUuid,
    pipelineRunId: 1,
    blockRunId: blockUuid.replaceAll('_', '-'),
  };
}

/** Appends `tick-<label>-<i>` lines every `everyMs` until stopped; resolves the lines written. */
function tickLines(label: string, everyMs: number): { stop(): Promise<string[]> } {
  const written: string[] = [];
  let stopped = false;
  const loop = (async () => {
    for (let i = 0; !stopped; i++) {
      const line = `e2e-log: tick-${label}-${i}`;
      await appendPodLogLine(line);
      written.push(line);
      await sleep(everyMs);
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
      return written;
    },
  };
}

/** Lines that occur more than once. */
function doubled(lines: readonly string[]): string[] {
  return [...new Set(lines.filter((line, i) => lines.indexOf(line) !== i))];
}

describe.skipIf(!fatesAvailable() || !apiServerRestartable())('faults of a real control plane', () => {
  const ns = useTestNamespace('e2e-faults');
  const admin = adminKubeConfig();
  const opened: { close(): void }[] = [];
  afterAll(() => {
    for (const executors of opened) executors.close();
  });

  it('the API server stops for 10 s while 3 blocks run: each succeeds, every log line arrives once', async () => {
    const blocks = ['down_a', 'down_b', 'down_c'];
    const executors = e2eExecutors({
      files: e2eProject(
        ns.name,
        blocks.map((uuid) => ({ uuid, fate: { fate: 'succeed', runSeconds: 60 } })),
      ),
    });
    opened.push(executors);
    const streamed = new Map<string, string[]>(blocks.map((b) => [b, []]));
    const running = new Set<string>();
    const results = Promise.all(
      blocks.map((uuid) =>
        executors.blocks.execute(runOf(uuid), {
          onLog: (line) => streamed.get(uuid)!.push(line.line),
          onEvent: (event: BlockEvent) => {
            if (event.type === 'running') running.add(uuid);
          },
        }),
      ),
    );
    await eventually(
      'all three blocks running',
      async () => running.size,
      (n) => n === blocks.length,
    );
    const restoreLog = await savePodLog();
    let written: string[];
    let outcomes: BlockResult[];
    try {
      const ticks = tickLines('outage', 500);
      await sleep(3000);
      await restartApiServer(10);
      await sleep(5000);
      written = await ticks.stop();
      outcomes = await results;
    } finally {
      await restoreLog();
    }

    for (const [i, result] of outcomes.entries()) {
      expect(result.status, `${blocks[i]}: ${result.reason} ${result.message}`).toBe('succeeded');
    }
    for (const uuid of blocks) {
      const lines = streamed.get(uuid)!;
      expect(doubled(lines), `${uuid}: doubled lines`).toEqual([]);
      expect(lines.filter((l) => KNOWN_LINES.includes(l))).toEqual(KNOWN_LINES);
      // Every tick written while the container ran, in order, once: the outage lost none.
      expect(lines.filter((l) => l.includes('tick-outage-'))).toEqual(written);
    }
    executors.close();
  }, 240_000);

  it('a tokenFile token rotates (the old one revoked) mid-pipeline: the run goes on with the new one', async () => {
    const serviceAccount = await applyDocumentedRole(ns, admin);
    const token = await rotatingToken(ns, admin, serviceAccount);
    try {
      const executors = e2eExecutors({
        kubeconfigPath: token.kubeconfigPath,
        files: e2eProject(ns.name, [
          { uuid: 'rotate_first', fate: { fate: 'succeed', runSeconds: 8 } },
          { uuid: 'rotate_second', upstream: ['rotate_first'], fate: { fate: 'succeed', runSeconds: 2 } },
        ]),
      });
      opened.push(executors);
      const statuses: string[] = [];
      const run = executors.pipelines.run(
        { pipelineUuid: E2E_PIPELINE, pipelineRunId: 'rotation' },
        {
          onEvent: (event) => {
            if (event.type === 'block-status') statuses.push(`${event.blockUuid}:${event.status}`);
          },
        },
      );
      await eventually(
        'the first block running',
        async () => statuses,
        (s) => s.includes('rotate_first:running'),
      );
      await token.rotate();
      await eventually(
        'the old token refused',
        () => token.previousTokenRefused(),
        (refused) => refused,
        30_000,
      );
      const result = await run;
      expect(
        result.blocks.map((b) => `${b.uuid}:${b.status}${b.reason ? ` ${b.reason} ${b.message}` : ''}`),
      ).toEqual(['rotate_first:succeeded', 'rotate_second:succeeded']);
      expect(token.issued).toBe(2);
      executors.close();
    } finally {
      await token.dispose();
    }
  }, 240_000);

  it('a Job suspended mid-run (Kueue preemption) and resumed waits as queued, then succeeds', async () => {
    // Short "no pod" bounds: a queued Job mistaken for one whose pods cannot be created fails within the test.
    const executors = e2eExecutors({
      files: e2eProject(ns.name, [{ uuid: 'preempted', fate: { fate: 'succeed', runSeconds: 10 } }]),
      monitorPolicy: { noPodTimeoutMs: 3000, pendingTimeoutMs: 3000 },
    });
    opened.push(executors);
    const phases: string[] = [];
    const pending = executors.blocks.execute(runOf('preempted'), {
      keepJob: true,
      onEvent: (event) => phases.push(event.type),
    });
    await eventually(
      'the block running',
      async () => phases,
      (p) => p.includes('running'),
    );
    const jobName = 'mage-data-prep-block-preempted';
    await setJobSuspended(ns, jobName, true);
    await eventually(
      'its pod gone',
      () => ns.podsOf(jobName),
      (pods) => pods.every((p) => p.metadata?.deletionTimestamp || p.status?.phase === 'Failed'),
    );
    // Queued for longer than any "no pod" grace of the monitor would allow a running Job.
    await sleep(8000);
    expect(await ns.readJob(jobName), 'the Job must not be deleted while queued').toBeDefined();
    await setJobSuspended(ns, jobName, false);
    const result = await pending;
    expect(result.status, `${result.reason} ${result.message}`).toBe('succeeded');
    await ns.batch.deleteNamespacedJob({
      name: jobName,
      namespace: ns.name,
      propagationPolicy: 'Background',
    });
    executors.close();
  }, 240_000);
});
