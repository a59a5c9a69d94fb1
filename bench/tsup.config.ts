import { defineConfig } from 'tsup';
import { clientNodeSlice } from '../tsup.config.js';

/**
 * Builds the benchmark (and the SDK sources and fake API server it imports) into one ESM bundle per
 * entry, run by plain Node: the sources use `.js` specifiers and parameter properties, which Node's own
 * type stripping cannot run. Dependencies (client-node, yaml, ...) stay external, as for users, but for
 * the slice of client-node the package bundles (`clientNodeSlice`).
 */
export default defineConfig({
  entry: {
    run: 'bench/run.ts',
    worker: 'bench/worker.ts',
    core: 'bench/core.ts',
    'soak-worker': 'bench/soak-worker.ts',
    cluster: 'bench/cluster/run.ts',
    'young-generation': 'bench/young-generation.ts',
  },
  outDir: 'node_modules/.cache/k8s-executor-bench',
  format: ['esm'],
  target: 'node22',
  platform: 'node',
  splitting: true,
  clean: true,
  dts: false,
  sourcemap: true,
  silent: true,
  ...clientNodeSlice,
});
