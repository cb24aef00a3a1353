import { defineConfig } from 'vitest/config'
import { workspaceResolve } from './vitest.workspace-resolve.ts'

// Two projects: `unit` needs no servers; `integration` (real servers, whole processes) gets them
// from the environment or from testcontainers in its global setup.
export default defineConfig({
  ...workspaceResolve,
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
