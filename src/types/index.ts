export type {
  Condition,
  Container,
  ContainerStatus,
  Job,
  JsonObject,
  KubeEvent,
  ObjectMeta,
  Pod,
  WatchEvent,
} from './kube.js';
export type { RunIdentity } from './run.js';
