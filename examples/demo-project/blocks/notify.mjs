import { load } from './_io.mjs';

const report = load('report');
const total = Object.values(report).reduce((a, b) => a + b, 0);
console.log(`revenue report ready: ${Object.keys(report).length} users, total ${total}`);
