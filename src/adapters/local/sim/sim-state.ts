import type { Clock } from '../../../ports/clock.js';
import type { Job, Pod } from '../../../types/kube.js';
import type { EventRecorder } from './event-recorder.js';
import type { NameGenerator } from './name-generator.js';
import type { PodLogs } from './pod-logs.js';
import type { RevisionCounter, VersionedStore } from './versioned-store.js';

/** Everything the simulated API server and its Job controller share. */
export interface SimState {
  readonly clock: Clock;
  readonly revisions: RevisionCounter;
  readonly jobs: VersionedStore<Job>;
  readonly pods: VersionedStore<Pod>;
  readonly events: EventRecorder;
  readonly logs: PodLogs;
  readonly names: NameGenerator;
}

/** The key of a pod's log. */
export function podKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

/** `ms` as the API server writes times: RFC 3339, UTC, whole seconds. */
export function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
