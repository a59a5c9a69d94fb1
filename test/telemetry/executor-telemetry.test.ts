/**
 * The executors report to telemetry: a span per pipeline run with a child span per attempt (its phases as
 * events, its outcome as attributes), outcome counters and detection latency; the factory also counts the
 * API requests of the client-node adapter by verb and status. Checked with the OpenTelemetry SDK's in-memory
 * exporters.
 */
import * as api from '@opentelemetry/api';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createExecutors } from '../../src/create.js';
import { K8sPipelineExecutor } from '../../src/executor/pipeline-executor.js';
import { TELEMETRY_NAMES } from '../../src/telemetry/otel-telemetry.js';
import type { Telemetry } from '../../src/telemetry/telemetry.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { InMemoryJobClient } from '../../src/testing/in-memory-job-client.js';
import { runUntil } from '../../src/testing/run-until.js';
import { StaticConfigSource } from '../../src/testing/static-config-source.js';
import { projectFiles, projectWithBlocks } from '../helpers/project.js';
import { startFakeApiServer } from '../support/fake-apiserver/index.js';

const spans = new InMemorySpanExporter();
const processor = new SimpleSpanProcessor({ exporter: spans });
const reader = new PeriodicExportingMetricReader({
  exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE),
  exportIntervalMillis: 3_600_000,
});
const meterProvider = new MeterProvider({ readers: [reader] });

beforeAll(() => {
  api.trace.setGlobalTracerProvider(new TracerProvider({ spanProcessors: [processor] }));
  api.metrics.setGlobalMeterProvider(meterProvider);
});
afterAll(async () => {
  api.trace.disable();
  api.metrics.disable();
  await meterProvider.shutdown();
});
beforeEach(() => spans.reset());

async function finished() {
  await processor.forceFlush();
  return spans.getFinishedSpans();
}

/** Every counter point now, by `<metric> <attributes>`. */
async function counters(): Promise<Map<string, number>> {
  const { resourceMetrics } = await reader.collect();
  const out = new Map<string, number>();
  for (const metric of resourceMetrics.scopeMetrics.flatMap((s) => s.metrics)) {
    for (const point of metric.dataPoints) {
      const value = point.value as number | { count: number };
      const attributes = JSON.stringify(Object.entries(point.attributes).sort());
      out.set(`${metric.descriptor.name} ${attributes}`, typeof value === 'number' ? value : value.count);
    }
  }
  return out;
}

describe('telemetry of the executors', () => {
  it('a pipeline run span holds one span per attempt, with its phases, outcome and Job', async () => {
    const clock = new FakeClock();
    const jobClient = new InMemoryJobClient({
      clock,
      scripts: {
        'mage-data-prep-block-7-load': [{ runMs: 2_000 }],
        'mage-data-prep-block-7-report': [{ runMs: 1_000, exitCode: 3 }],
      },
    });
    const executor = new K8sPipelineExecutor({
      configSource: new StaticConfigSource(
        projectFiles('  - uuid: load\n  - uuid: report\n    upstream_blocks: [load]\n'),
      ),
      jobClient,
      clock,
      logDrainMs: 10,
    });
    const result = await runUntil(clock, executor.run({ pipelineUuid: 'etl', pipelineRunId: 7 }));
    executor.close();
    expect(result.status).toBe('failed');

    const all = await finished();
    const run = all.find((s) => s.name === TELEMETRY_NAMES.pipelineRunSpan);
    const attempts = all.filter((s) => s.name === TELEMETRY_NAMES.attemptSpan);
    expect(run?.attributes).toMatchObject({
      'k8s_executor.pipeline.uuid': 'etl',
      'k8s_executor.pipeline.run_id': '7',
      'k8s_executor.mode': 'dag',
      'k8s_executor.status': 'failed',
    });
    expect(attempts.map((s) => s.attributes['k8s_executor.block.uuid'])).toEqual(['load', 'report']);
    for (const attempt of attempts) {
      expect(attempt.parentSpanContext?.spanId).toBe(run?.spanContext().spanId);
      expect(attempt.parentSpanContext?.traceId).toBe(run?.spanContext().traceId);
    }
    const [load, report] = attempts;
    expect(load?.attributes).toMatchObject({
      'k8s.job.name': 'mage-data-prep-block-7-load',
      'k8s.namespace.name': 'default',
      'k8s_executor.attempt': 1,
      'k8s_executor.status': 'succeeded',
    });
    expect(load?.events.map((e) => e.name)).toEqual(['submitted', 'running', 'succeeded']);
    expect(report?.attributes).toMatchObject({
      'k8s_executor.status': 'failed',
      'k8s_executor.reason': 'EXIT_CODE',
      'k8s_executor.exit_code': 3,
    });
    expect(report?.status.code).toBe(api.SpanStatusCode.ERROR);
    // The spans carry the run's own (fake) times: the report attempt starts after load ended.
    expect(report!.startTime[0] * 1000).toBeGreaterThanOrEqual(Math.floor(load!.endTime[0] * 1000 - 2_000));

    const counted = await counters();
    expect(
      counted.get(`${TELEMETRY_NAMES.outcomes} [["outcome","failed"],["reason","EXIT_CODE"]]`),
    ).toBeGreaterThanOrEqual(1);
    expect(counted.get(`${TELEMETRY_NAMES.detectionLatency} []`)).toBeGreaterThanOrEqual(2);
  });

  it("a Telemetry of the caller's gets the facts, its own run handle as each attempt's parent, at the run's times", async () => {
    const clock = new FakeClock();
    const jobClient = new InMemoryJobClient({ clock, defaultScript: [{ runMs: 1_000 }] });
    const runHandle = { end: vi.fn() };
    const calls: string[] = [];
    const telemetry: Telemetry = {
      startPipelineRun: (run, at) => {
        calls.push(`run ${run.pipelineUuid} ${run.pipelineRunId} at ${at - clock0}`);
        return runHandle;
      },
      startAttempt: (attempt, at, parent) => {
        calls.push(`attempt ${attempt.blockUuid} at ${at - clock0} parent ${parent === runHandle}`);
        return {
          phase: (phase, phaseAt) => calls.push(`${attempt.blockUuid} ${phase} at ${phaseAt - clock0}`),
          detected: () => undefined,
          end: (outcome) => calls.push(`${attempt.blockUuid} ended ${outcome.status}`),
        };
      },
      recordApiRequest: () => undefined,
      recordRateLimitWait: () => undefined,
      recordWatchReconnect: () => undefined,
    };
    const clock0 = clock.now();
    const executor = new K8sPipelineExecutor({
      configSource: new StaticConfigSource(projectFiles('  - uuid: load\n')),
      jobClient,
      clock,
      logDrainMs: 10,
      telemetry,
    });
    await runUntil(clock, executor.run({ pipelineUuid: 'etl', pipelineRunId: 9 }));
    executor.close();
    expect(calls).toEqual([
      'run etl 9 at 0',
      'attempt load at 0 parent true',
      'load submitted at 0',
      'load running at 0',
      'load succeeded at 1000',
      'load ended succeeded',
    ]);
    expect(runHandle.end).toHaveBeenCalledWith({ status: 'succeeded' }, expect.any(Number));
  });

  it('telemetry: false records nothing', async () => {
    const clock = new FakeClock();
    const jobClient = new InMemoryJobClient({ clock, defaultScript: [{ runMs: 100 }] });
    const executor = new K8sPipelineExecutor({
      configSource: new StaticConfigSource(projectFiles('  - uuid: load\n')),
      jobClient,
      clock,
      logDrainMs: 10,
      telemetry: false,
    });
    await runUntil(clock, executor.run({ pipelineUuid: 'etl', pipelineRunId: 8 }));
    executor.close();
    expect(await finished()).toEqual([]);
  });

  it('the factory counts the API requests of a cluster by verb, resource and status', async () => {
    const server = await startFakeApiServer({ scripts: () => [{ runMs: 50 }] });
    try {
      const before = await counters();
      const { blocks, close } = createExecutors({
        projectDir: projectWithBlocks('  - uuid: load\n'),
        kubeconfigPath: server.kubeconfigPath,
        inheritServerPod: false,
        logDrainMs: 50,
      });
      const result = await blocks.execute({
        pipelineUuid: 'etl',
        blockUuid: 'load',
        pipelineRunId: 1,
        blockRunId: 1,
      });
      await close();
      expect(result.status).toBe('succeeded');
      const after = await counters();
      const added = (attributes: string) =>
        (after.get(`${TELEMETRY_NAMES.apiRequests} ${attributes}`) ?? 0) -
        (before.get(`${TELEMETRY_NAMES.apiRequests} ${attributes}`) ?? 0);
      expect(added('[["resource","jobs"],["status","201"],["verb","create"]]')).toBe(1);
      expect(added('[["resource","jobs"],["status","200"],["verb","delete"]]')).toBe(1);
      expect(added('[["resource","jobs"],["status","200"],["verb","list"]]')).toBeGreaterThanOrEqual(1);
    } finally {
      await server.close();
    }
  });
});
