import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // The JSON report feeds the one-line summary the root test command prints.
    reporters: ['default', ['json', { outputFile: '.reports/vitest.json' }]],
  },
});
