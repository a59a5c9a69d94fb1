export { FakeClock, flushMicrotasks } from './fake-clock.js';
