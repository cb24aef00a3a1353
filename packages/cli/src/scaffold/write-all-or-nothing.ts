// Writes a set of files into one folder, all or none: a failure part-way puts back what was there.
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { lstat, mkdir, readFile, realpath, rename, rm, writeFile } from 'node:fs/promises'
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path'
import { ScaffoldError } from './names.ts'

/** Whether `path` is `root` or under it. */
function isWithin(path: string, root: string): boolean {
  const rel = relative(root, path)
  return !rel.startsWith('..') && !isAbsolute(rel)
}

/**
 * Refuses (ScaffoldError) any path that would be written outside `folder`: one that climbs out
 * (`../x`), or that goes through a symbolic link to elsewhere, or names something that is not a
 * regular file. Run it before anything is written.
 */
export async function checkWritableInside(folder: string, paths: string[]): Promise<void> {
  const root = await realpath(folder)
  for (const path of paths) {
    const target = resolve(folder, path)
    if (target === resolve(folder) || !isWithin(target, resolve(folder))) {
      throw new ScaffoldError(`${path} is not inside ${folder}: nothing was written`)
    }
    let existing = target
    while (!existsSync(existing)) existing = dirname(existing)
    if (!isWithin(await realpath(existing), root)) {
      throw new ScaffoldError(`${existing} leads outside ${folder}: nothing was written`)
    }
    if (existing === target && !(await lstat(target)).isFile()) {
      throw new ScaffoldError(`${target} is not a regular file: nothing was written`)
    }
  }
}

/** Content to its final name through a temporary file beside it: never half a file. */
async function replaceFile(target: string, content: string): Promise<void> {
  const temporary = join(dirname(target), `.${basename(target)}.${randomBytes(4).toString('hex')}`)
  try {
    await writeFile(temporary, content)
    await rename(temporary, target)
  } catch (error) {
    await rm(temporary, { force: true })
    throw error
  }
}

/**
 * Writes `files` (paths relative to `folder`) after `checkWritableInside`. If one write fails,
 * the files written before it get their former content back (or are removed, with the folders
 * made for them), and the error is thrown.
 */
export async function writeAllOrNothing(
  folder: string,
  files: Record<string, string>,
): Promise<void> {
  await checkWritableInside(folder, Object.keys(files))
  const before = new Map<string, string | undefined>()
  for (const path of Object.keys(files)) {
    const target = resolve(folder, path)
    before.set(target, existsSync(target) ? await readFile(target, 'utf8') : undefined)
  }
  const written: string[] = []
  const madeFolders: string[] = []
  try {
    for (const [path, content] of Object.entries(files)) {
      const target = resolve(folder, path)
      const made = await mkdir(dirname(target), { recursive: true })
      if (made) madeFolders.push(made)
      await replaceFile(target, content)
      written.push(target)
    }
  } catch (error) {
    const notRestored: string[] = []
    for (const target of written.reverse()) {
      const former = before.get(target)
      await (
        former === undefined ? rm(target, { force: true }) : replaceFile(target, former)
      ).catch(() => notRestored.push(target))
    }
    for (const made of madeFolders.reverse()) await rm(made, { recursive: true, force: true })
    if (notRestored.length > 0) {
      throw new Error(
        `${(error as Error).message}; and these could not be put back as they were: ${notRestored.join(', ')}`,
        { cause: error },
      )
    }
    throw error
  }
}
