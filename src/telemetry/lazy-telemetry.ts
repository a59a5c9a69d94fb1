import { resolveTelemetry } from './load-telemetry.js';
import type {
  AttemptTelemetry,
  PipelineRunTelemetry,
  Telemetry,
  TelemetryAttempt,
  TelemetryPipelineRun,
} from './telemetry.js';

/**
 * The loaded telemetry's run handle of each handle a {@link LazyTelemetry} gave out: shared by all of
 * them, since a pipeline executor's run is the parent of attempts its block executor starts.
 */
const loadedRuns = new WeakMap<PipelineRunTelemetry, PipelineRunTelemetry>();

/**
 * The telemetry of one executor (or factory), resolved on first use rather than in a constructor: the
 * caller's, none (`false`), or OpenTelemetry when its API is installed. It never makes work wait for that:
 * {@link LazyTelemetry.deferred} records at once, and what is recorded before the telemetry is loaded is
 * handed to it as soon as it is, in order, with its own times (every call carries the Clock's time), so
 * nothing is lost or shifted.
 */
export class LazyTelemetry {
  private resolved: Telemetry | undefined;
  private loading: Promise<Telemetry> | undefined;
  /** A telemetry that records at once; see the class. */
  readonly deferred: Telemetry;

  /** Does no IO. */
  constructor(private readonly option: Telemetry | false | undefined) {
    this.deferred = {
      startPipelineRun: (run, at) => this.startPipelineRun(run, at),
      startAttempt: (attempt, at, parent) => this.startAttempt(attempt, at, parent),
      recordApiRequest: (request) => this.use((t) => t.recordApiRequest(request)),
      recordRateLimitWait: (ms) => this.use((t) => t.recordRateLimitWait(ms)),
      recordWatchReconnect: (resource) => this.use((t) => t.recordWatchReconnect(resource)),
    };
  }

  /** The telemetry, loading OpenTelemetry's API the first time when it is installed. */
  load(): Promise<Telemetry> {
    this.loading ??= resolveTelemetry(this.option).then((telemetry) => {
      this.resolved = telemetry;
      return telemetry;
    });
    return this.loading;
  }

  /** Records through the telemetry: at once when it is loaded, else as soon as it is (calls keep their order). */
  use(record: (telemetry: Telemetry) => void): void {
    if (this.resolved) record(this.resolved);
    else void this.load().then(record, () => undefined);
  }

  private startPipelineRun(run: TelemetryPipelineRun, at: number): PipelineRunTelemetry {
    const later = new Later<PipelineRunTelemetry>();
    const handle: PipelineRunTelemetry = {
      end: (outcome, endAt) => later.call((r) => r.end(outcome, endAt)),
    };
    this.use((t) => {
      const real = t.startPipelineRun(run, at);
      loadedRuns.set(handle, real);
      later.resolve(real);
    });
    return handle;
  }

  private startAttempt(
    attempt: TelemetryAttempt,
    at: number,
    parent: PipelineRunTelemetry | undefined,
  ): AttemptTelemetry {
    // Loaded already (every attempt after the first): the loaded handle itself, with nothing around it
    // that a run would hold for its whole life.
    if (this.resolved)
      return this.resolved.startAttempt(attempt, at, parent ? (loadedRuns.get(parent) ?? parent) : undefined);
    const later = new Later<AttemptTelemetry>();
    this.use((t) => {
      // A parent from this object is mapped to its loaded handle (made earlier, so already there).
      const realParent = parent ? (loadedRuns.get(parent) ?? parent) : undefined;
      later.resolve(t.startAttempt(attempt, at, realParent));
    });
    return {
      phase: (phase, phaseAt) => later.call((a) => a.phase(phase, phaseAt)),
      detected: (latencyMs) => later.call((a) => a.detected(latencyMs)),
      end: (outcome, endAt) => later.call((a) => a.end(outcome, endAt)),
    };
  }
}

/** Calls on a value that is not there yet: queued until it is, then made in order. */
class Later<T> {
  private value: T | undefined;
  private readonly queue: ((value: T) => void)[] = [];

  call(fn: (value: T) => void): void {
    if (this.value !== undefined) fn(this.value);
    else this.queue.push(fn);
  }

  resolve(value: T): void {
    this.value = value;
    for (const fn of this.queue.splice(0)) fn(value);
  }
}
