import { defineConfig } from 'vitest/config'

// Two projects: `unit` needs no servers; `integration` (real servers, whole processes) gets them
// from the environment or from testcontainers in its global setup.
export default defineConfig({
  test: {
    reporters: ['default', './packages/testing/src/vitest/summary-reporter.ts'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['{packages,boilerplate}/*/src/**/*.unit.spec.ts'],
        },
      },
      {
        test: {
          name: 'integration',
          include: [
            '{packages,boilerplate}/*/src/**/*.int.spec.ts',
            '{packages,boilerplate}/*/src/**/*.e2e.spec.ts',
            'infra/**/*.e2e.spec.ts',
          ],
          globalSetup: ['./packages/testing/src/vitest/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
})
