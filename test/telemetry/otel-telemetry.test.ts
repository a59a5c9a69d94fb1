import * as api from '@opentelemetry/api';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { CALLBACK_WARNING_CODE } from '../../src/errors/isolate-callback.js';
import { resolveTelemetry } from '../../src/telemetry/load-telemetry.js';
import { otelTelemetry, TELEMETRY_NAMES } from '../../src/telemetry/otel-telemetry.js';
import { NOOP_TELEMETRY, type Telemetry } from '../../src/telemetry/telemetry.js';

const spans = new InMemorySpanExporter();
const reader = new PeriodicExportingMetricReader({
  exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE),
  exportIntervalMillis: 3_600_000,
});
const processor = new SimpleSpanProcessor({ exporter: spans });
const tracerProvider = new TracerProvider({ spanProcessors: [processor] });
const meterProvider = new MeterProvider({ readers: [reader] });

beforeAll(() => {
  api.trace.setGlobalTracerProvider(tracerProvider);
  api.metrics.setGlobalMeterProvider(meterProvider);
});
afterAll(async () => {
  api.trace.disable();
  api.metrics.disable();
  await meterProvider.shutdown();
});
beforeEach(() => spans.reset());

/** The spans ended so far (the processor exports them asynchronously). */
async function finished() {
  await processor.forceFlush();
  return spans.getFinishedSpans();
}

const T0 = Date.UTC(2026, 11, 1, 12);

/** An OpenTelemetry high-resolution time in ms. */
const millis = ([seconds, nanos]: api.HrTime) => seconds * 1000 + nanos / 1e6;

describe('OpenTelemetry telemetry', () => {
  it('a span per pipeline run and one per attempt inside it, with phases, attributes and the outcome', async () => {
    const telemetry = otelTelemetry(api);
    const run = telemetry.startPipelineRun({ pipelineUuid: 'etl', pipelineRunId: '7', mode: 'dag' }, T0);
    const attempt = telemetry.startAttempt(
      {
        pipelineUuid: 'etl',
        pipelineRunId: '7',
        blockUuid: 'load',
        attempt: 2,
        jobName: 'mage-data-prep-block-7-load-attempt-2',
        namespace: 'ml',
      },
      T0 + 10,
      run,
    );
    attempt.phase('submitted', T0 + 10);
    attempt.phase('pending', T0 + 50);
    attempt.phase('running', T0 + 1_000);
    attempt.phase('failed', T0 + 5_000);
    attempt.end(
      { status: 'failed', reason: 'OOM_KILLED', exitCode: 137, message: 'out of memory' },
      T0 + 5_000,
    );
    run.end({ status: 'failed' }, T0 + 6_000);

    const [attemptSpan, runSpan] = await finished();
    expect(runSpan?.name).toBe(TELEMETRY_NAMES.pipelineRunSpan);
    expect(runSpan?.attributes).toMatchObject({
      'k8s_executor.pipeline.uuid': 'etl',
      'k8s_executor.pipeline.run_id': '7',
      'k8s_executor.mode': 'dag',
      'k8s_executor.status': 'failed',
    });
    expect(runSpan?.status.code).toBe(api.SpanStatusCode.ERROR);
    expect(attemptSpan?.name).toBe(TELEMETRY_NAMES.attemptSpan);
    expect(attemptSpan?.parentSpanContext?.spanId).toBe(runSpan?.spanContext().spanId);
    expect(attemptSpan?.attributes).toEqual({
      'k8s_executor.pipeline.uuid': 'etl',
      'k8s_executor.pipeline.run_id': '7',
      'k8s_executor.block.uuid': 'load',
      'k8s_executor.attempt': 2,
      'k8s.job.name': 'mage-data-prep-block-7-load-attempt-2',
      'k8s.namespace.name': 'ml',
      'k8s_executor.status': 'failed',
      'k8s_executor.reason': 'OOM_KILLED',
      'k8s_executor.exit_code': 137,
    });
    expect(attemptSpan?.events.map((e) => e.name)).toEqual(['submitted', 'pending', 'running', 'failed']);
    expect(attemptSpan?.status).toEqual({ code: api.SpanStatusCode.ERROR, message: 'out of memory' });
    // The Clock's times, not the wall clock's.
    expect(millis(attemptSpan!.startTime)).toBe(T0 + 10);
    expect(millis(attemptSpan!.endTime)).toBe(T0 + 5_000);
    expect(millis(attemptSpan!.events[2]!.time)).toBe(T0 + 1_000);
  });

  it('ends an attempt once; phases after its end are not recorded', async () => {
    const attempt = otelTelemetry(api).startAttempt(
      { pipelineUuid: 'etl', pipelineRunId: '1', attempt: 1, jobName: 'j', namespace: 'default' },
      T0,
    );
    attempt.phase('succeeded', T0 + 1);
    attempt.end({ status: 'succeeded' }, T0 + 1);
    attempt.phase('running', T0 + 2);
    attempt.end({ status: 'failed' }, T0 + 3);
    const ended = await finished();
    expect(ended).toHaveLength(1);
    expect(ended[0]?.events.map((e) => e.name)).toEqual(['succeeded']);
    expect(ended[0]?.status.code).toBe(api.SpanStatusCode.UNSET);
  });

  it('counts outcomes by reason, API requests by verb and status, waits, reconnects, detection latency', async () => {
    // Instruments are cumulative and shared by the tests of this file: compare before and after.
    const before = await snapshot();
    const telemetry = otelTelemetry(api);
    const attempt = () =>
      telemetry.startAttempt(
        { pipelineUuid: 'p', pipelineRunId: '1', attempt: 1, jobName: 'j', namespace: 'n' },
        T0,
      );
    const a = attempt();
    a.detected(3);
    a.end({ status: 'succeeded' }, T0 + 1);
    const b = attempt();
    b.detected(undefined);
    b.end({ status: 'failed', reason: 'EXIT_CODE', exitCode: 3 }, T0 + 1);
    telemetry.recordApiRequest({ verb: 'create', resource: 'jobs', status: 201 });
    telemetry.recordApiRequest({ verb: 'create', resource: 'jobs', status: 201 });
    telemetry.recordApiRequest({ verb: 'list', resource: 'pods' });
    telemetry.recordRateLimitWait(40);
    telemetry.recordRateLimitWait(0);
    telemetry.recordWatchReconnect('pods');
    const after = await snapshot();
    const added = (name: string, attributes: api.Attributes) =>
      Number(after.get(key(name, attributes)) ?? 0) - Number(before.get(key(name, attributes)) ?? 0);

    expect(added(TELEMETRY_NAMES.outcomes, { outcome: 'succeeded', reason: 'none' })).toBe(1);
    expect(added(TELEMETRY_NAMES.outcomes, { outcome: 'failed', reason: 'EXIT_CODE' })).toBe(1);
    expect(added(TELEMETRY_NAMES.apiRequests, { verb: 'create', resource: 'jobs', status: '201' })).toBe(2);
    expect(added(TELEMETRY_NAMES.apiRequests, { verb: 'list', resource: 'pods', status: 'none' })).toBe(1);
    expect(added(TELEMETRY_NAMES.watchReconnects, { resource: 'pods' })).toBe(1);
    // Histograms: one sample each (the unknown latency and the zero wait are not recorded).
    expect(added(`${TELEMETRY_NAMES.detectionLatency}#count`, {})).toBe(1);
    expect(added(`${TELEMETRY_NAMES.detectionLatency}#sum`, {})).toBe(3);
    expect(added(`${TELEMETRY_NAMES.rateLimiterWait}#count`, {})).toBe(1);
    expect(added(`${TELEMETRY_NAMES.rateLimiterWait}#sum`, {})).toBe(40);
  });
});

/** A map key of one data point: the metric name and its attributes. */
function key(name: string, attributes: api.Attributes): string {
  return `${name} ${JSON.stringify(Object.entries(attributes).sort())}`;
}

/** Every data point now: counters by value; histograms as `<name>#count` and `<name>#sum`. */
async function snapshot(): Promise<Map<string, number>> {
  const { resourceMetrics } = await reader.collect();
  const values = new Map<string, number>();
  for (const metric of resourceMetrics.scopeMetrics.flatMap((s) => s.metrics)) {
    for (const point of metric.dataPoints) {
      const value = point.value as number | { count: number; sum?: number };
      if (typeof value === 'number') values.set(key(metric.descriptor.name, point.attributes), value);
      else {
        values.set(key(`${metric.descriptor.name}#count`, point.attributes), value.count);
        values.set(key(`${metric.descriptor.name}#sum`, point.attributes), value.sum ?? 0);
      }
    }
  }
  return values;
}

describe('resolveTelemetry', () => {
  it('false records nothing; by default it is OpenTelemetry when the API is installed (it is, here)', async () => {
    expect(await resolveTelemetry(false)).toBe(NOOP_TELEMETRY);
    const automatic = await resolveTelemetry(undefined);
    expect(automatic).not.toBe(NOOP_TELEMETRY);
    automatic
      .startPipelineRun({ pipelineUuid: 'x', pipelineRunId: '1', mode: 'dag' }, T0)
      .end({ status: 'succeeded' }, T0);
    expect((await finished()).map((s) => s.name)).toEqual([TELEMETRY_NAMES.pipelineRunSpan]);
  });

  it("guards a caller's telemetry: a throw is reported once and changes nothing", async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const throwing: Telemetry = {
      startPipelineRun: () => {
        throw new Error('exporter down');
      },
      startAttempt: () => ({
        phase: () => {
          throw new Error('exporter down');
        },
        detected: () => undefined,
        end: () => undefined,
      }),
      recordApiRequest: () => {
        throw new Error('exporter down');
      },
      recordRateLimitWait: () => undefined,
      recordWatchReconnect: () => undefined,
    };
    const telemetry = await resolveTelemetry(throwing);
    const run = telemetry.startPipelineRun({ pipelineUuid: 'x', pipelineRunId: '1', mode: 'dag' }, T0);
    expect(() => run.end({ status: 'succeeded' }, T0)).not.toThrow();
    const attempt = telemetry.startAttempt(
      { pipelineUuid: 'x', pipelineRunId: '1', attempt: 1, jobName: 'j', namespace: 'n' },
      T0,
    );
    expect(() => attempt.phase('running', T0)).not.toThrow();
    expect(() => telemetry.recordApiRequest({ verb: 'get', resource: 'jobs', status: 200 })).not.toThrow();
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]?.[1]).toMatchObject({ code: CALLBACK_WARNING_CODE });
    warn.mockRestore();
  });
});
