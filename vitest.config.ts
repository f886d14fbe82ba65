import os from 'node:os';
import path from 'node:path';
import { defineConfig } from 'vitest/config';

// Converted weights go to a cache private to the test run.
const cache = process.env.PERSONA_TEST_CACHE ?? path.join(os.tmpdir(), 'persona-vectors-test-cache');

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    testTimeout: 120_000,
    hookTimeout: 300_000,
    globalSetup: ['test/globalSetup.ts'],
    env: { PERSONA_CACHE: cache },
    reporters: ['default', './test/summaryReporter.ts'],
  },
});
