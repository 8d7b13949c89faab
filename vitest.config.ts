import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // Forks, not threads: the Temporal worker's native bridge and Chromium children want real processes.
    pool: 'forks',
    maxWorkers: 2,
    globalSetup: ['tests/global-setup.ts'],
    // Cleanups registered by helpers (tests/helpers/file-cleanup.ts) run at the end of each file.
    setupFiles: ['tests/setup-file-cleanup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default', './tests/summary-reporter.ts'],
  },
});
