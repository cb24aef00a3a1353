import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { serviceFiles, templateNames, type Placement } from './files.ts'
import { serviceNames } from './names.ts'
import { namePairs } from './template.ts'

const versions = { dependencies: {}, devDependencies: {} }
const workspace: Placement = { kind: 'workspace', baseTsconfig: '../../tsconfig.base.json' }
const standalone: Placement = { kind: 'standalone', compilerOptions: {}, eslintConfig: '' }
const directive = /^\s*(?:\/\/|#|<!--)\s*@(?:each|if|end)\b.*\n/gm

/** Every name of the template service: none may be left in a service with other names. */
const templateWords = [
  ...namePairs(templateNames, templateNames),
  ...namePairs(templateNames.publishes[0]!, templateNames.publishes[0]!),
  ...namePairs(templateNames.consumes[0]!, templateNames.consumes[0]!),
].map(([name]) => name)

describe('serviceFiles', () => {
  it('gives the template back, without its block lines, for the template service itself', () => {
    const files = serviceFiles(templateNames, standalone, versions)
    for (const path of ['src/service.ts', 'src/gateway.ts', 'src/handlers/onInvoicePaid.ts']) {
      const source = readFileSync(join(import.meta.dirname, 'template', path), 'utf8')
      expect(files[path], path).toBe(source.replace(directive, ''))
    }
  })

  it('leaves no name of the template in a service named otherwise', () => {
    const names = serviceNames('billing-reports', {
      events: ['Payment.captured', 'Payment.refunded'],
      consumes: ['User.registered', 'Payment.refunded'],
    })
    for (const placement of [workspace, standalone]) {
      const files = serviceFiles(names, placement, versions)
      for (const [path, content] of Object.entries(files)) {
        for (const word of templateWords) expect(`${path}: ${content}`).not.toContain(word)
        expect(content, path).not.toMatch(directive)
      }
    }
  })

  it('writes each event and handler once, and defines an event it consumes from itself once', () => {
    const names = serviceNames('billing', {
      events: ['Invoice.issued', 'Invoice.voided'],
      consumes: ['User.registered', 'Invoice.voided'],
    })
    const files = serviceFiles(names, workspace, versions)
    expect(Object.keys(files).filter((path) => path.startsWith('src/handlers/'))).toEqual([
      'src/handlers/onUserRegistered.ts',
      'src/handlers/onInvoiceVoided.ts',
      'src/handlers/onUserRegistered.unit.spec.ts',
      'src/handlers/onInvoiceVoided.unit.spec.ts',
    ])
    const events = files['src/events.ts']!
    for (const constant of ['InvoiceIssued', 'InvoiceVoided', 'UserRegistered']) {
      expect(events.split(`export const ${constant} =`)).toHaveLength(2)
    }
    const service = files['src/service.ts']!
    expect(service).toContain(`createRuntime('billing', config, logger)`)
    expect(service).toContain(`runtime.core.on(UserRegistered, { handler: 'onUserRegistered' }`)
    expect(service).toContain(`runtime.core.on(InvoiceVoided, { handler: 'onInvoiceVoided' }`)
    expect(service).toContain(`recordInvoiceIssued: async (input, actor, call) =>`)
    expect(service).toContain(`await op.publish(InvoiceVoided, { invoiceId, note })`)
    expect(files['src/gateway.ts']).toContain('recordInvoiceVoided(note: String!')
    expect(files['README.md']).toContain('pnpm --filter billing-service test')
  })

  it('has no store nor handlers when the service consumes nothing', () => {
    const files = serviceFiles(serviceNames('reports', {}), standalone, versions)
    expect(Object.keys(files).sort()).toEqual([
      'README.md',
      'eslint.config.js',
      'package.json',
      'src/events.ts',
      'src/gateway.ts',
      'src/main.ts',
      'src/service.ts',
      'tsconfig.json',
      'vitest.config.ts',
    ])
    expect(files['src/service.ts']).not.toContain('received')
    expect(files['README.md']).toContain('- none yet')
    expect(files['README.md']).toContain('`npm install`, then `npm start`')
  })
})
