import { defineConfig } from 'vitest/config'

// Two projects: `unit` needs no servers; `integration` (real servers, whole processes) gets them
// from the environment or from testcontainers in its global setup.
// The workspace's packages resolve to their sources (`@event-driven/source` in their exports;
// published, they resolve to their builds). Vite's own conditions follow it.
const resolve = { conditions: ['@event-driven/source', 'node', 'import', 'development|production'] }

export default defineConfig({
  resolve,
  ssr: {
    resolve: { conditions: resolve.conditions, externalConditions: ['@event-driven/source'] },
  },
  test: {
    reporters: ['default', './packages/testing/src/vitest/summary-reporter.ts'],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['{packages,boilerplate}/*/src/**/*.unit.spec.ts'],
        },
      },
      {
        extends: true,
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
