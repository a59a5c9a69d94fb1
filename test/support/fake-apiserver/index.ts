export type { Fault, FaultRule } from './fault-plan.js';
export { preciseNow } from './final-condition-recorder.js';
export type { Resource, Route, Verb } from './routes.js';
export { seededRandom } from './seeded-random.js';
export {
  type FakeApiServer,
  type FakeApiServerOptions,
  type FakeApiServerStats,
  startFakeApiServer,
} from './server.js';
