import { Validator } from '@seriousme/openapi-schema-validator'
import { describe, expect, it } from 'vitest'
import { openApiDocument } from './api.ts'

type Operation = {
  parameters?: { name: string; in: string; schema: { type?: string } }[]
  responses: Record<string, { content?: Record<string, { schema?: unknown }> }>
  security?: unknown[]
}

describe('the admin API’s OpenAPI document', () => {
  const document = openApiDocument()
  const paths = document.paths as Record<string, Record<string, Operation>>

  it('is a valid OpenAPI 3.1 document', async () => {
    const result = await new Validator().validate(document)
    expect(result.errors).toBeUndefined()
    expect(result).toMatchObject({ valid: true })
    expect(document.openapi).toBe('3.1.0')
  })

  it('declares every {id} path parameter and types the query parameters', () => {
    for (const [path, methods] of Object.entries(paths)) {
      for (const operation of Object.values(methods)) {
        const declared = (operation.parameters ?? []).filter((p) => p.in === 'path')
        expect(declared.map((p) => p.name)).toEqual(
          [...path.matchAll(/{(\w+)}/g)].map((match) => match[1]),
        )
      }
    }
    const query = Object.fromEntries(
      paths['/api/dlq']!.get!.parameters!.map((p) => [p.name, p.schema]),
    )
    expect(query).toMatchObject({
      limit: { type: 'integer', minimum: 1, maximum: 500 },
      status: { $ref: '#/components/schemas/DlqStatus' },
      from: { type: 'string', format: 'date-time' },
    })
  })

  it('gives every answer with a body its schema, and the security schemes', () => {
    for (const methods of Object.values(paths)) {
      for (const operation of Object.values(methods)) {
        for (const response of Object.values(operation.responses)) {
          for (const media of Object.values(response.content ?? {}))
            expect(media.schema).toBeDefined()
        }
        expect(operation.responses['200']?.content).toBeDefined()
      }
    }
    expect(Object.keys(document.components as object)).toContain('securitySchemes')
    expect(paths['/api/session']!.post!.security).toEqual([])
  })
})
