import { pause, save } from './_io.mjs';

console.log('extracting orders');
await pause(700);
const orders = Array.from({ length: 12 }, (_, i) => ({
  id: 100 + i,
  userId: (i % 5) + 1,
  amount: 10 + ((i * 7) % 23),
}));
save('orders', orders);
console.log(`extracted ${orders.length} orders`);
