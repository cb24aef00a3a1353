#!/usr/bin/env node
// npm create event-driven <name> [-- --minimal]: runs `event-driven create` of the CLI this
// package depends on (the same version), so the app depends on the packages of that version.
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import process from 'node:process'

const cliPackageJson = createRequire(import.meta.url).resolve('@event-driven/cli/package.json')
const { bin } = JSON.parse(readFileSync(cliPackageJson, 'utf8'))
const cli = join(dirname(cliPackageJson), bin['event-driven'])
const run = spawnSync(process.execPath, [cli, 'create', ...process.argv.slice(2)], {
  stdio: 'inherit',
})
if (run.error) throw run.error
process.exitCode = run.status ?? 1
