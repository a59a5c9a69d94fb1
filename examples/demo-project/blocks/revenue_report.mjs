import { load, save } from './_io.mjs';

const byUser = {};
for (const o of load('joined')) byUser[o.user] = (byUser[o.user] ?? 0) + o.amount;
save('report', byUser);
for (const [user, total] of Object.entries(byUser)) console.log(`${user}: ${total}`);
