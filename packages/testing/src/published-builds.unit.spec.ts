import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { isBuiltin } from 'node:module'
import { join, relative } from 'node:path'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'

// Each published package's build (tsconfig.build.json: `files` are its public entries) compiles
// them, to where its exports point, and what they import, nothing else: no spec, and no test helper, which shows as a file
// that needs a package the published one does not depend on (vitest, @event-driven/testing).
const packagesDir = join(import.meta.dirname, '..', '..')

/** An entry of `exports`: its sources in the workspace, its build when installed. */
type ExportEntry = string | { '@event-driven/source': string; types: string; default: string }

interface PackageJson {
  name: string
  private?: boolean
  bin?: Record<string, string>
  dependencies?: Record<string, string>
  peerDependencies?: Record<string, string>
  exports?: Record<string, ExportEntry>
}

const published = readdirSync(packagesDir)
  .map((dir) => ({
    dir: join(packagesDir, dir),
    pkg: JSON.parse(readFileSync(join(packagesDir, dir, 'package.json'), 'utf8')) as PackageJson,
  }))
  // Compiled ones: create-event-driven's command is a plain JavaScript file, built by nothing.
  .filter(({ dir, pkg }) => !pkg.private && existsSync(join(dir, 'tsconfig.build.json')))

function buildProgram(dir: string) {
  const configPath = join(dir, 'tsconfig.build.json')
  const config: unknown = ts.readConfigFile(configPath, (path) => ts.sys.readFile(path)).config
  const parsed = ts.parseJsonConfigFileContent(config, ts.sys, dir, undefined, configPath)
  // Which files the build takes needs no type: other packages' declarations are left empty.
  const options = { ...parsed.options, noLib: true, types: [] }
  const host = ts.createCompilerHost(options)
  const getSourceFile = host.getSourceFile.bind(host)
  host.getSourceFile = (fileName, language, ...rest) =>
    fileName.includes('/node_modules/')
      ? ts.createSourceFile(fileName, '', language)
      : getSourceFile(fileName, language, ...rest)
  return ts.createProgram({ rootNames: parsed.fileNames, options, host })
}

const packageOf = (specifier: string) =>
  specifier
    .split('/')
    .slice(0, specifier.startsWith('@') ? 2 : 1)
    .join('/')

describe.each(published)('the published build of $pkg.name', ({ dir, pkg }) => {
  const program = buildProgram(dir)
  const built = program
    .getSourceFiles()
    .filter((file) => !file.isDeclarationFile && !program.isSourceFileFromExternalLibrary(file))
    .map((file) => relative(dir, file.fileName))

  const entries = Object.values(pkg.exports ?? {}).filter((entry) => typeof entry !== 'string')

  const outDir = relative(dir, program.getCompilerOptions().outDir!)
  const builtAs = (source: string) =>
    `./${outDir}/${source.replace(/^\.?\/?src\//, '').replace(/\.ts$/, '.js')}`

  it('compiles every entry of its exports and its commands, to where they point', () => {
    expect(entries.length + Object.keys(pkg.bin ?? {}).length).toBeGreaterThan(0)
    for (const target of Object.values(pkg.bin ?? {})) {
      const source = built.find((file) => builtAs(file) === target)
      expect(source, `${target} is built from no source`).toBeDefined()
    }
    for (const entry of entries) {
      const source = entry['@event-driven/source'].replace(/^\.\//, '')
      expect(built).toContain(source)
      const output = builtAs(source)
      expect(entry).toEqual({
        '@event-driven/source': `./${source}`,
        types: output.replace(/\.js$/, '.d.ts'),
        default: output,
      })
    }
  })

  it('holds no spec', () => {
    expect(built.filter((file) => file.endsWith('.spec.ts'))).toEqual([])
  })

  it('imports only node, itself and the packages it depends on', () => {
    const allowed = new Set([
      pkg.name,
      ...Object.keys(pkg.dependencies ?? {}),
      ...Object.keys(pkg.peerDependencies ?? {}),
    ])
    const missing = built.flatMap((file) =>
      ts
        .preProcessFile(readFileSync(join(dir, file), 'utf8'))
        .importedFiles.map((imported) => imported.fileName)
        .filter((specifier) => !specifier.startsWith('.') && !isBuiltin(specifier))
        .filter((specifier) => !allowed.has(packageOf(specifier)))
        .map((specifier) => `${file}: ${specifier}`),
    )
    expect(missing).toEqual([])
  })
})
