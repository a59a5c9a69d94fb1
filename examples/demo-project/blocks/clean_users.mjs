import { load, pause, save } from './_io.mjs';

const users = load('users')
  .filter((u) => u.active)
  .map((u) => ({ ...u, name: u.name.trim() }));
await pause(300);
save('clean_users', users);
console.log(`kept ${users.length} active users`);
