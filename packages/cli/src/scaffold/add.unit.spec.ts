import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { addEvent, addHandler } from './add.ts'
import { createNewService } from './create.ts'
import { writeAllOrNothing } from './write-all-or-nothing.ts'

// Real files in a temp folder outside the monorepo: services made by `new` (standalone), grown
// by `add`, compared with what `new` makes when given the same subjects from the start.
const root = mkdtempSync(join(tmpdir(), 'event-driven-add-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))

let made = 0
/** A service made by `new` in a folder of its own; returns the folder. */
async function newService(name: string, lists: { events?: string[]; consumes?: string[] } = {}) {
  const dir = join(root, `${name}-${++made}`)
  await createNewService({ name, dir, ...lists, cwd: root })
  return dir
}

/** Every file under `dir`, by path, with its content. */
function tree(dir: string): Record<string, string> {
  const files: Record<string, string> = {}
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue
    const path = join(entry.parentPath, entry.name)
    files[relative(dir, path)] = readFileSync(path, 'utf8')
  }
  return files
}

describe('event-driven add handler', () => {
  it('gives a service without handlers the files new --consumes gives it', async () => {
    const grown = await newService('reports')
    const result = await addHandler({ subject: 'User.registered', dir: grown, cwd: root })
    expect(result.created.sort()).toEqual([
      'handlers/onUserRegistered.ts',
      'handlers/onUserRegistered.unit.spec.ts',
      'received.ts',
    ])
    expect(result.changed.sort()).toEqual(['events.ts', 'service.ts'])

    const made = await newService('reports', { consumes: ['User.registered'] })
    expect(tree(join(grown, 'src'))).toEqual(tree(join(made, 'src')))
  })

  it('adds beside existing handlers, for a subject it publishes and for another service’s', async () => {
    const grown = await newService('billing', {
      events: ['Invoice.issued'],
      consumes: ['User.registered'],
    })
    const own = await addHandler({ subject: 'Invoice.issued', dir: grown, cwd: root })
    expect(own.changed).toEqual(['service.ts'])
    await addHandler({ subject: 'Payment.refunded', dir: grown, cwd: root })

    const made = await newService('billing', {
      events: ['Invoice.issued'],
      consumes: ['User.registered', 'Invoice.issued', 'Payment.refunded'],
    })
    expect(tree(join(grown, 'src'))).toEqual(tree(join(made, 'src')))
  })
})

describe('event-driven add event', () => {
  it('writes the definition new --events writes', async () => {
    const grown = await newService('reports')
    const result = await addEvent({ subject: 'Payment.captured', dir: grown, cwd: root })
    expect(result).toMatchObject({ created: [], changed: ['events.ts'], service: 'reports' })

    const made = await newService('reports', { events: ['Reports.recorded', 'Payment.captured'] })
    const events = (dir: string) => readFileSync(join(dir, 'src/events.ts'), 'utf8')
    expect(events(grown)).toBe(events(made))

    // Its handler then uses that definition as it is.
    const handler = await addHandler({ subject: 'Payment.captured', dir: grown, cwd: root })
    expect(handler.changed).toEqual(['service.ts'])
    expect(events(grown)).toBe(events(made))
  })

  it('adds to a service that consumes events, once', async () => {
    const dir = await newService('billing', { consumes: ['User.registered'] })
    await addEvent({ subject: 'Invoice.voided', dir, cwd: root })
    const events = readFileSync(join(dir, 'src/events.ts'), 'utf8')
    expect(events.split(`subject: 'Invoice.voided'`)).toHaveLength(2)
    expect(events).toContain('schema: z.object({ invoiceId: z.string(), note: z.string() })')
    expect(events).toContain('export type InvoiceVoidedData = EventData<typeof InvoiceVoided>')
    expect(events).toContain('export const InvoiceVoidedExample: InvoiceVoidedData = {')
  })
})

describe('where the service is', () => {
  it('finds a service inside an app by --service, by --dir, and a package by the current directory', async () => {
    // An app as `event-driven create` makes it, as far as `new` looks: a package whose
    // src/services.ts lists the added services. `new` puts the service in src/billing.
    const app = join(root, `app-${++made}`)
    mkdirSync(join(app, 'src'), { recursive: true })
    writeFileSync(join(app, 'package.json'), '{ "name": "app", "type": "module" }\n')
    writeFileSync(
      join(app, 'src', 'services.ts'),
      `import type { ServiceModule } from '@event-driven/service-kit'\n\nexport const addedServices: ServiceModule[] = []\n`,
    )
    const service = await createNewService({
      name: 'billing',
      consumes: ['User.registered'],
      cwd: app,
    })
    const inApp = join(app, 'src', 'billing')
    expect(service.dir).toBe(inApp)

    const byName = await addHandler({ subject: 'Invoice.paid', service: 'billing', cwd: app })
    expect(byName.folder).toBe(inApp)
    expect(existsSync(join(inApp, 'handlers/onInvoicePaid.unit.spec.ts'))).toBe(true)
    expect((await addEvent({ subject: 'Invoice.sent', dir: inApp, cwd: root })).folder).toBe(inApp)

    const pkg = await newService('reports')
    const here = await addEvent({ subject: 'Report.sent', cwd: pkg })
    expect(here.folder).toBe(join(pkg, 'src'))
    expect((await addEvent({ subject: 'Report.read', dir: pkg, cwd: root })).folder).toBe(
      join(pkg, 'src'),
    )
  })
})

describe('refusals write nothing', () => {
  const refusals: [string, (dir: string) => Promise<unknown>, string][] = [
    [
      'a subject it defines',
      (dir) => addEvent({ subject: 'Invoice.issued', dir, cwd: root }),
      'defines Invoice.issued already',
    ],
    [
      'a subject it handles',
      (dir) => addHandler({ subject: 'User.registered', dir, cwd: root }),
      'handles User.registered already',
    ],
    ...['invoice.issued', '../../x.y', 'Invoice.issued/../../a', 'Invoice.paid\n', ''].map(
      (subject): [string, (dir: string) => Promise<unknown>, string] => [
        `the subject ${JSON.stringify(subject)}`,
        (dir) => addHandler({ subject, dir, cwd: root }),
        'is not <Entity>.<pastTenseVerb>',
      ],
    ),
    [
      'a folder without a service',
      (dir) => addHandler({ subject: 'Invoice.paid', dir: join(dir, 'nope'), cwd: root }),
      `no service found (a folder with service.ts and events.ts): looked in ${root}`,
    ],
    [
      'a service name that is not one',
      (dir) => addEvent({ subject: 'Invoice.paid', service: '../x', cwd: dir }),
      '--service: "../x" is not a service name',
    ],
    [
      'a service name not found',
      (dir) => addEvent({ subject: 'Invoice.paid', service: 'nope', cwd: dir }),
      `looked in ${root}`,
    ],
    [
      'a folder that is not a service, with none named',
      (dir) => addEvent({ subject: 'Invoice.paid', cwd: join(dir, 'src') }),
      'name it with --service <name> or --dir DIR',
    ],
  ]

  it.each(refusals)('refuses %s', async (_, add, message) => {
    const dir = await newService('billing', {
      events: ['Invoice.issued'],
      consumes: ['User.registered'],
    })
    const before = tree(root)
    await expect(add(dir)).rejects.toThrow(message)
    expect(tree(root)).toEqual(before)
  })

  it('refuses a handlers folder that leads outside the service', async () => {
    const dir = await newService('reports')
    const outside = mkdtempSync(join(tmpdir(), 'event-driven-outside-'))
    try {
      symlinkSync(outside, join(dir, 'src', 'handlers'))
      const before = tree(dir)
      await expect(addHandler({ subject: 'User.registered', dir, cwd: root })).rejects.toThrow(
        'leads outside',
      )
      expect(tree(dir)).toEqual(before)
      expect(readdirSync(outside)).toEqual([])
    } finally {
      rmSync(outside, { recursive: true, force: true })
    }
  })

  it('refuses a service.ts it cannot place a registration in', async () => {
    const dir = await newService('reports')
    const service = join(dir, 'src', 'service.ts')
    writeFileSync(service, readFileSync(service, 'utf8').replace('await runtime.start(', 'go('))
    const before = tree(dir)
    await expect(addHandler({ subject: 'User.registered', dir, cwd: root })).rejects.toThrow(
      'has no "await runtime.start(" line',
    )
    expect(tree(dir)).toEqual(before)
  })
})

describe('writeAllOrNothing', () => {
  it('puts back what it wrote when a later write fails', async () => {
    const dir = mkdtempSync(join(root, 'writes-'))
    writeFileSync(join(dir, 'a.ts'), 'old')
    writeFileSync(join(dir, 'x'), 'a file where a folder is wanted')
    mkdirSync(join(dir, 'b'))
    const before = tree(dir)
    await expect(
      writeAllOrNothing(dir, { 'a.ts': 'new', 'b/c/d.ts': 'new file', 'x/y.ts': 'fails' }),
    ).rejects.toThrow()
    expect(tree(dir)).toEqual(before)
    expect(readdirSync(join(dir, 'b'))).toEqual([])
  })

  it('refuses a path that climbs out of the folder', async () => {
    const dir = mkdtempSync(join(root, 'writes-'))
    await expect(writeAllOrNothing(dir, { '../escaped.ts': 'x' })).rejects.toThrow('is not inside')
    expect(existsSync(join(root, 'escaped.ts'))).toBe(false)
  })
})
