export { ReconnectBackoff, type ReconnectBackoffOptions } from './backoff.js';
export { type FollowJobOptions, followJob } from './follow-job.js';
export { defaultMonitorPolicy, initialBlockState, isFinalPhase, nextDeadline, reduce } from './reduce.js';
export type {
  BlockPhase,
  BlockState,
  BlockTransition,
  MonitorPolicy,
  Observation,
  PodSummary,
} from './types.js';
export {
  DEFAULT_IDLE_TIMEOUT_MS,
  type HubEvent,
  type HubSubscription,
  WatchHub,
  type WatchHubOptions,
  type WatchHubSettings,
  type WatchHubSizes,
  type WatchHubStats,
  WatchHubs,
} from './watch-hub.js';
