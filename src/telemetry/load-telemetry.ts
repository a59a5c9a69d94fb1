import { callbackErrorReporter } from '../errors/isolate-callback.js';
import { otelTelemetry } from './otel-telemetry.js';
import {
  NOOP_ATTEMPT,
  NOOP_RUN,
  NOOP_TELEMETRY,
  type PipelineRunTelemetry,
  type Telemetry,
} from './telemetry.js';

type PipelineRunOutcome = Parameters<PipelineRunTelemetry['end']>[0];

let automatic: Promise<Telemetry> | undefined;

/**
 * OpenTelemetry when `@opentelemetry/api` can be loaded (an optional peer dependency), else telemetry that
 * records nothing. Loaded once per process, on the first run that asks: without the package the whole
 * cost is one failed dynamic import.
 */
export function automaticTelemetry(): Promise<Telemetry> {
  automatic ??= import('@opentelemetry/api').then(
    (api) => otelTelemetry(api),
    () => NOOP_TELEMETRY,
  );
  return automatic;
}

/**
 * The telemetry an executor reports to: the caller's (`Telemetry`), none (`false`), or, by default,
 * OpenTelemetry when its API is installed. A caller's implementation is guarded: a throw is reported once
 * (`K8S_EXECUTOR_CALLBACK_THREW`) and changes no outcome.
 */
export async function resolveTelemetry(option: Telemetry | false | undefined): Promise<Telemetry> {
  if (option === false) return NOOP_TELEMETRY;
  if (option === undefined) return automaticTelemetry();
  return guarded(option);
}

/** The caller's own run handle behind each guarded one (a guarded run is the parent of guarded attempts). */
const innerRuns = new WeakMap<PipelineRunTelemetry, PipelineRunTelemetry>();

function guarded(telemetry: Telemetry): Telemetry {
  const report = callbackErrorReporter('telemetry', undefined, telemetry);
  const safe =
    <A extends unknown[], R>(fn: (...args: A) => R, fallback: R) =>
    (...args: A): R => {
      try {
        return fn(...args);
      } catch (error) {
        report(error);
        return fallback;
      }
    };
  return {
    startPipelineRun: safe((run, at) => {
      const inner = telemetry.startPipelineRun(run, at);
      const handle = {
        end: safe((outcome: PipelineRunOutcome, endAt: number) => inner.end(outcome, endAt), undefined),
      };
      innerRuns.set(handle, inner);
      return handle;
    }, NOOP_RUN),
    startAttempt: safe((attempt, at, parent) => {
      const inner = telemetry.startAttempt(
        attempt,
        at,
        parent ? (innerRuns.get(parent) ?? parent) : undefined,
      );
      return {
        phase: safe((phase: string, phaseAt: number) => inner.phase(phase, phaseAt), undefined),
        detected: safe((latencyMs: number | undefined) => inner.detected(latencyMs), undefined),
        end: safe((outcome, endAt) => inner.end(outcome, endAt), undefined),
      };
    }, NOOP_ATTEMPT),
    recordApiRequest: safe((request) => telemetry.recordApiRequest(request), undefined),
    recordRateLimitWait: safe((ms) => telemetry.recordRateLimitWait(ms), undefined),
    recordWatchReconnect: safe((resource) => telemetry.recordWatchReconnect(resource), undefined),
  };
}
