import { existsSync } from 'node:fs'
import { defineConfig } from 'vitest/config'

// The servers the tests use come from .env (the local ones), like npm start's; variables set in
// the environment win. Without them, containers are started when Docker runs.
if (existsSync('.env')) process.loadEnvFile('.env')

export default defineConfig({
  test: {
    include: ['src/**/*.spec.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
})
