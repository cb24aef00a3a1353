import type { TestProject } from 'vitest/node'
import { getTestServers } from '../servers.ts'

/**
 * Finds (or starts) the test servers once per run and puts their URLs into the environment,
 * so every test file, and every process a test spawns, reaches the same servers.
 */
export default async function setup(_project: TestProject): Promise<() => Promise<void>> {
  const servers = await getTestServers()
  Object.assign(process.env, servers.env)
  return () => servers.stop()
}
