import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Examples import the package by its name, as users do; tests resolve it to the sources.
const alias = {
  'k8s-executor/testing': fileURLToPath(new URL('./src/testing/index.ts', import.meta.url)),
  'k8s-executor': fileURLToPath(new URL('./src/index.ts', import.meta.url)),
};

export default defineConfig({
  resolve: { alias },
  test: {
    projects: [
      {
        resolve: { alias },
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: ['test/e2e/**', 'test/browser/**'],
          testTimeout: 20_000,
          // An unhandled rejection is a crash of the user's process (Node's default): it must fail the test
          // run here too, wherever it comes from (issue 9: the SDK never leaves one behind).
          execArgv: ['--unhandled-rejections=strict'],
          globalSetup: ['test/helpers/temp-root.ts'],
        },
      },
      {
        resolve: { alias },
        test: {
          // A real headless Chromium (Debian's chromium through puppeteer-core); skipped without one.
          name: 'browser',
          include: ['test/browser/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 90_000,
          fileParallelism: false,
        },
      },
      {
        resolve: { alias },
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          execArgv: ['--unhandled-rejections=strict'],
          globalSetup: ['test/helpers/temp-root.ts'],
          testTimeout: 180_000,
          hookTimeout: 600_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
