// An OpenTelemetry SDK that throws (a span processor's onStart or onEnd, as a buggy exporter setup does)
// changes no run: the throw is reported once, the blocks run and end as they would without telemetry,
// and the submission slot of the run whose span could not start is not kept.
import * as api from '@opentelemetry/api';
import { type Span, type SpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CALLBACK_WARNING_CODE } from '../../src/errors/isolate-callback.js';
import { K8sBlockExecutor } from '../../src/executor/block-executor.js';
import type { JobRunnerDeps } from '../../src/executor/run-job.js';
import { SubmissionSlots } from '../../src/executor/submission-slots.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { InMemoryJobClient } from '../../src/testing/in-memory-job-client.js';
import { StaticConfigSource } from '../../src/testing/static-config-source.js';
import { drive } from '../helpers/drive.js';
import { projectFiles } from '../helpers/project.js';

const broken = { onStart: false, onEnd: false };
const ended: string[] = [];
const processor: SpanProcessor = {
  onStart: () => {
    if (broken.onStart) throw new Error('span processor onStart threw');
  },
  onEnd: (span: Span | { name: string }) => {
    if (broken.onEnd) throw new Error('span processor onEnd threw');
    ended.push(span.name);
  },
  forceFlush: async () => undefined,
  shutdown: async () => undefined,
};

beforeAll(() => {
  api.trace.setGlobalTracerProvider(new TracerProvider({ spanProcessors: [processor] }));
});
afterAll(() => api.trace.disable());

describe('an OpenTelemetry SDK that throws', () => {
  it('is reported once and changes no run, and the runs after it still get their turn', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const clock = new FakeClock();
    const jobClient = new InMemoryJobClient({ clock, defaultScript: [{ runMs: 1000 }] });
    const blocks = Array.from({ length: 4 }, (_, i) => `  - uuid: b${i}\n    executor_type: k8s\n`).join('');
    const executor = new K8sBlockExecutor({
      configSource: new StaticConfigSource(projectFiles(blocks)),
      jobClient,
      clock,
      logDrainMs: 100,
    });
    (executor as unknown as { deps: JobRunnerDeps }).deps.submissions = new SubmissionSlots(1);
    const run = (i: number) => ({ pipelineUuid: 'etl', blockUuid: `b${i}`, pipelineRunId: 1, blockRunId: i });
    const status = async (i: number) => (await drive(clock, executor.execute(run(i)), 250, 120_000)).status;

    expect(await status(0)).toBe('succeeded'); // the telemetry is loaded from here on
    broken.onStart = true;
    expect(await status(1)).toBe('succeeded');
    broken.onStart = false;
    broken.onEnd = true;
    expect(await status(2)).toBe('succeeded');
    broken.onEnd = false;
    expect(await status(3)).toBe('succeeded');
    executor.close();

    expect(jobClient.createdJobs.map((j) => j.metadata.name)).toEqual(
      [0, 1, 2, 3].map((i) => `mage-data-prep-block-${i}`),
    );
    expect(ended).toEqual(['k8s-executor block attempt', 'k8s-executor block attempt']);
    const reports = warn.mock.calls.filter(
      (call) => (call[1] as { code?: string })?.code === CALLBACK_WARNING_CODE,
    );
    expect(reports).toHaveLength(1);
    expect(String(reports[0]?.[0])).toMatch(/telemetry.*onStart threw/);
    warn.mockRestore();
  });
});
