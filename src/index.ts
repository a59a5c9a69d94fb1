export * from './errors/index.js';
export * from './ports/index.js';
export type {
  Condition,
  Container,
  ContainerStatus,
  Job,
  JsonObject,
  KubeEvent,
  ObjectMeta,
  Pod,
  RunIdentity,
  WatchEvent,
} from './types/index.js';
