import { defineConfig, type Options } from 'tsup';

type EsbuildPlugin = NonNullable<Options['esbuildPlugins']>[number];

/** client-node's built modules, as a path pattern. */
const CLIENT_NODE_DIST = /[\\/]@kubernetes[\\/]client-node[\\/]dist[\\/]/;
/** The folder of client-node's generated API (`dist/gen/`), as a path pattern. */
const CLIENT_NODE_GEN = /[\\/]@kubernetes[\\/]client-node[\\/]dist[\\/]gen[\\/]/;

/**
 * Marks client-node's generated API free of side effects, so the bundled `KubeConfig` keeps only
 * what it uses of it (its request context and server configuration) instead of every generated
 * model and API, which `config.js` imports through the generated index (`client-node-values.ts`).
 */
const pureClientNodeGen: EsbuildPlugin = {
  name: 'pure-client-node-gen',
  setup(build) {
    build.onResolve({ filter: /^\.\.?\// }, async (args) => {
      if (args.pluginData === pureClientNodeGen || !CLIENT_NODE_DIST.test(args.importer)) return;
      const resolved = await build.resolve(args.path, {
        importer: args.importer,
        resolveDir: args.resolveDir,
        kind: args.kind,
        pluginData: pureClientNodeGen,
      });
      if (resolved.errors.length > 0 || !CLIENT_NODE_GEN.test(resolved.path)) return resolved;
      return { ...resolved, sideEffects: false };
    });
  },
};

/**
 * client-node's `KubeConfig` and `RequestContext` bundled from their own modules, without the
 * generated API (its other dependencies stay external: they are this package's dependencies too).
 * The bench's build uses it too, so that it measures what users load.
 */
export const clientNodeSlice = {
  noExternal: [/^@kubernetes\/client-node\/dist\//],
  esbuildPlugins: [pureClientNodeGen],
} satisfies Options;

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    'testing/index': 'src/testing/index.ts',
    'cli/main': 'src/cli/main.ts',
  },
  format: ['esm', 'cjs'],
  // `@internal` members (reducer bookkeeping the public types carry) are left out of the declarations.
  dts: {
    entry: { index: 'src/index.ts', 'testing/index': 'src/testing/index.ts' },
    compilerOptions: { stripInternal: true },
  },
  target: 'node22',
  platform: 'node',
  sourcemap: true,
  clean: true,
  splitting: true,
  shims: false,
  ...clientNodeSlice,
});
