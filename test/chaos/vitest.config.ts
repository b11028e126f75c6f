import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// `npm run test:chaos`: the long chaos variant, outside `npm test` (it runs for many minutes).
export default defineConfig({
  test: {
    globalSetup: [fileURLToPath(new URL('../global-setup.ts', import.meta.url))],
    include: ['test/chaos/**/*.test.ts'],
    testTimeout: 3_600_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
