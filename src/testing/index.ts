import '../node-version.js';

export { FakeClock, flushMicrotasks } from './fake-clock.js';
export { type CallRecord, InMemoryJobClient, type InMemoryJobClientOptions } from './in-memory-job-client.js';
export { type PodScript, ScriptedPodRunner } from './pod-script.js';
export { type RunUntilOptions, runUntil } from './run-until.js';
export { StaticConfigSource } from './static-config-source.js';
