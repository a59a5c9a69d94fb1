import type * as OtelApi from '@opentelemetry/api';
import { callbackErrorReporter } from '../errors/isolate-callback.js';
import {
  type AttemptTelemetry,
  NOOP_ATTEMPT,
  NOOP_RUN,
  type PipelineRunTelemetry,
  type Telemetry,
  type TelemetryAttempt,
  type TelemetryAttemptOutcome,
} from './telemetry.js';

/** The instrumentation scope of every span and metric. */
export const INSTRUMENTATION_SCOPE = 'k8s-executor';

/** Span and metric names (documented in docs/telemetry.md; they never change meaning). */
export const TELEMETRY_NAMES = {
  pipelineRunSpan: 'k8s-executor pipeline run',
  attemptSpan: 'k8s-executor block attempt',
  outcomes: 'k8s_executor.block.outcomes',
  detectionLatency: 'k8s_executor.detection.latency',
  apiRequests: 'k8s_executor.api.requests',
  rateLimiterWait: 'k8s_executor.rate_limiter.wait',
  watchReconnects: 'k8s_executor.watch.reconnects',
} as const;

/**
 * Telemetry over the OpenTelemetry API: spans from the global tracer provider and instruments from the
 * global meter provider, both no-ops until the application registers an SDK. Times are the executor's
 * Clock times, so a fake clock gives spans that line up with the run. A call into the SDK that throws (a
 * span processor's `onStart`, a sampler, a metric reader) is reported once (`K8S_EXECUTOR_CALLBACK_THREW`,
 * as a throwing `Telemetry` of the caller's is) and changes no run.
 */
export function otelTelemetry(api: typeof OtelApi): Telemetry {
  const report = callbackErrorReporter('telemetry', undefined, api);
  const guard = (call: () => void): void => {
    try {
      call();
    } catch (error) {
      report(error);
    }
  };
  const tracer = api.trace.getTracer(INSTRUMENTATION_SCOPE);
  const meter = api.metrics.getMeter(INSTRUMENTATION_SCOPE);
  const outcomes = meter.createCounter(TELEMETRY_NAMES.outcomes, {
    description: 'Block attempts that ended, by outcome and reason code',
    unit: '{attempt}',
  });
  const detection = meter.createHistogram(TELEMETRY_NAMES.detectionLatency, {
    description: "From the Job's final condition (as Kubernetes wrote it) to the executor seeing it",
    unit: 'ms',
  });
  const requests = meter.createCounter(TELEMETRY_NAMES.apiRequests, {
    description:
      'Requests to the Kubernetes API server, by verb, resource and HTTP status (none = no answer)',
    unit: '{request}',
  });
  const waits = meter.createHistogram(TELEMETRY_NAMES.rateLimiterWait, {
    description: 'Time a request waited for the client-side rate limiter',
    unit: 'ms',
  });
  const reconnects = meter.createCounter(TELEMETRY_NAMES.watchReconnects, {
    description: 'Reconnects of the shared Jobs and Pods watches',
    unit: '{reconnect}',
  });
  const runSpans = new WeakMap<PipelineRunTelemetry, OtelApi.Span>();

  const endSpan = (span: OtelApi.Span, outcome: TelemetryAttemptOutcome, at: number) => {
    span.setAttribute('k8s_executor.status', outcome.status);
    if (outcome.reason) span.setAttribute('k8s_executor.reason', outcome.reason);
    if (outcome.exitCode !== undefined) span.setAttribute('k8s_executor.exit_code', outcome.exitCode);
    if (outcome.status === 'failed') {
      span.setStatus({
        code: api.SpanStatusCode.ERROR,
        ...(outcome.message ? { message: outcome.message } : {}),
      });
    }
    span.end(at);
  };

  const attemptInstruments: AttemptInstruments = { guard, outcomes, detection, endSpan };

  return {
    startPipelineRun(run, at) {
      let span: OtelApi.Span;
      try {
        span = tracer.startSpan(TELEMETRY_NAMES.pipelineRunSpan, {
          startTime: at,
          attributes: {
            'k8s_executor.pipeline.uuid': run.pipelineUuid,
            'k8s_executor.pipeline.run_id': run.pipelineRunId,
            'k8s_executor.mode': run.mode,
          },
        });
      } catch (error) {
        report(error);
        return NOOP_RUN; // the SDK threw: this run records nothing
      }
      const handle: PipelineRunTelemetry = {
        end(outcome, endAt) {
          guard(() => {
            span.setAttribute('k8s_executor.status', outcome.status);
            if (outcome.status === 'failed') span.setStatus({ code: api.SpanStatusCode.ERROR });
            span.end(endAt);
          });
        },
      };
      runSpans.set(handle, span);
      return handle;
    },

    startAttempt(attempt: TelemetryAttempt, at, parent): AttemptTelemetry {
      let span: OtelApi.Span;
      try {
        const parentSpan = parent ? runSpans.get(parent) : undefined;
        const context = parentSpan ? api.trace.setSpan(api.context.active(), parentSpan) : undefined;
        span = tracer.startSpan(
          TELEMETRY_NAMES.attemptSpan,
          {
            startTime: at,
            attributes: {
              'k8s_executor.pipeline.uuid': attempt.pipelineUuid,
              'k8s_executor.pipeline.run_id': attempt.pipelineRunId,
              ...(attempt.blockUuid !== undefined ? { 'k8s_executor.block.uuid': attempt.blockUuid } : {}),
              'k8s_executor.attempt': attempt.attempt,
              'k8s.job.name': attempt.jobName,
              'k8s.namespace.name': attempt.namespace,
            },
          },
          context,
        );
      } catch (error) {
        report(error);
        return NOOP_ATTEMPT;
      }
      return new OtelAttempt(span, attemptInstruments);
    },

    recordApiRequest(request) {
      guard(() =>
        requests.add(1, {
          verb: request.verb,
          resource: request.resource,
          status: request.status === undefined ? 'none' : String(request.status),
        }),
      );
    },

    recordRateLimitWait(ms) {
      if (ms > 0) guard(() => waits.record(ms));
    },

    recordWatchReconnect(resource) {
      guard(() => reconnects.add(1, { resource }));
    },
  };
}

/** What every attempt of one telemetry records into. */
interface AttemptInstruments {
  guard(call: () => void): void;
  outcomes: OtelApi.Counter;
  detection: OtelApi.Histogram;
  endSpan(span: OtelApi.Span, outcome: TelemetryAttemptOutcome, at: number): void;
}

/** One attempt's span. A class rather than an object of closures: every running block holds one. */
class OtelAttempt implements AttemptTelemetry {
  private ended = false;

  constructor(
    private readonly span: OtelApi.Span,
    private readonly instruments: AttemptInstruments,
  ) {}

  phase(phase: string, at: number): void {
    if (!this.ended) this.instruments.guard(() => this.span.addEvent(phase, at));
  }

  detected(latencyMs: number | undefined): void {
    const { guard, detection } = this.instruments;
    if (latencyMs !== undefined && latencyMs >= 0) guard(() => detection.record(latencyMs));
  }

  end(outcome: TelemetryAttemptOutcome, at: number): void {
    if (this.ended) return;
    this.ended = true;
    const { guard, outcomes, endSpan } = this.instruments;
    guard(() => {
      outcomes.add(1, { outcome: outcome.status, reason: outcome.reason ?? 'none' });
      endSpan(this.span, outcome, at);
    });
  }
}
