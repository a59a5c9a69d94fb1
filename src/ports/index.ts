export type { Clock } from './clock.js';
export { systemClock } from './clock.js';
export type {
  AccessReview,
  ClusterInspector,
  KubeNode,
  LimitRange,
  LimitRangeItem,
  ObjectSummary,
  PersistentVolumeClaim,
  ResourceAttributes,
  ResourceList,
  ResourceQuota,
  ScopeSelectorTerm,
  StoredKeys,
  Taint,
} from './cluster-inspector.js';
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
