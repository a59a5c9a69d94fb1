/**
 * `k8s-executor/testing`: test doubles for code built on k8s-executor. A {@link FakeClock} (with
 * {@link runUntil}), an {@link InMemoryJobClient} whose pods play {@link PodScript}s on that clock, and a
 * {@link StaticConfigSource} over in-memory YAML texts. The ports they implement are exported by
 * `k8s-executor`. The surface is listed name by name and reviewed in `etc/k8s-executor-testing.api.md`.
 *
 * @packageDocumentation
 */

import '../node-version.js';

export type { LogTimestamps } from '../adapters/local/sim/pod-logs.js';
export type { WatchListSupport } from '../adapters/local/sim/sim-cluster.js';
export { FakeClock, flushMicrotasks } from './fake-clock.js';
export { type CallRecord, InMemoryJobClient, type InMemoryJobClientOptions } from './in-memory-job-client.js';
export type { PodScript } from './pod-script.js';
export { type RunUntilOptions, runUntil } from './run-until.js';
export { StaticConfigSource } from './static-config-source.js';
