// Preloaded with `node --import`: records every module this process loads (ESM imports and CommonJS
// requires alike, through Node's synchronous module hooks) and prints their URLs as one JSON line on
// stdout when the process exits, after a `MODULES ` marker.
import { registerHooks } from 'node:module';

const loaded = new Set();
registerHooks({
  load(url, context, nextLoad) {
    loaded.add(url);
    return nextLoad(url, context);
  },
});
process.on('exit', () => {
  process.stdout.write(`\nMODULES ${JSON.stringify([...loaded])}\n`);
});
