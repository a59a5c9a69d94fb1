import { attempt, load, pause, save } from './_io.mjs';

if (attempt === 1) {
  console.error('warehouse connection reset (simulated flaky dependency); exiting 1 so the retry runs');
  process.exit(1);
}
const users = new Map(load('clean_users').map((u) => [u.id, u]));
const joined = load('orders')
  .filter((o) => users.has(o.userId))
  .map((o) => ({ ...o, user: users.get(o.userId).name }));
await pause(300);
save('joined', joined);
console.log(`joined ${joined.length} orders on attempt ${attempt}`);
