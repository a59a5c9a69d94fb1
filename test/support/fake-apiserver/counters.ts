import { callKey, type Route } from './routes.js';

/** The request counters of a fake API server (see `FakeApiServerStats`). */
export class Counters {
  private requests = 0;
  private byCall = new Map<string, number>();
  private faults = new Map<string, number>();
  private creates = new Map<string, number>();
  private unauthorized = 0;
  private maxOpenWatches = 0;
  private openLogStreams = 0;
  private maxOpenLogStreams = 0;

  request(route: Route | undefined): void {
    this.requests++;
    bump(this.byCall, route ? callKey(route) : 'unknown');
  }

  fault(route: Route): void {
    bump(this.faults, callKey(route));
  }

  refused(): void {
    this.unauthorized++;
  }

  created(name: string): void {
    bump(this.creates, name);
  }

  watchOpened(open: number): void {
    this.maxOpenWatches = Math.max(this.maxOpenWatches, open);
  }

  logStreamOpened(): void {
    this.openLogStreams++;
    this.maxOpenLogStreams = Math.max(this.maxOpenLogStreams, this.openLogStreams);
  }

  logStreamClosed(): void {
    this.openLogStreams--;
  }

  reset(openWatches: number): void {
    this.requests = 0;
    this.byCall = new Map();
    this.faults = new Map();
    this.creates = new Map();
    this.unauthorized = 0;
    this.maxOpenWatches = openWatches;
    this.maxOpenLogStreams = this.openLogStreams;
  }

  snapshot() {
    return {
      requests: this.requests,
      byCall: Object.fromEntries(this.byCall),
      faults: Object.fromEntries(this.faults),
      unauthorized: this.unauthorized,
      maxOpenWatches: this.maxOpenWatches,
      openLogStreams: this.openLogStreams,
      maxOpenLogStreams: this.maxOpenLogStreams,
      createdJobs: Object.fromEntries(this.creates),
    };
  }
}

function bump(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}
