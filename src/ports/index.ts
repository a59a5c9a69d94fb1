export type { Clock } from './clock.js';
export { systemClock } from './clock.js';
export type { ConfigSnapshot, ConfigSource, DocumentPath, RawDocument } from './config-source.js';
export type {
  CallOptions,
  DeleteOptions,
  JobClient,
  ListOptions,
  ListResult,
  LogOptions,
  WatchOptions,
} from './job-client.js';
export type { PodIntrospector, ServerPod } from './pod-introspector.js';
