import { pause, save } from './_io.mjs';

console.log('extracting users');
await pause(400);
const users = Array.from({ length: 5 }, (_, i) => ({ id: i + 1, name: ` User ${i + 1} `, active: i !== 2 }));
save('users', users);
console.log(`extracted ${users.length} users`);
