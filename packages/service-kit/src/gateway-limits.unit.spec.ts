import { buildSchema, parse, specifiedRules, validate } from 'graphql'
import { describe, expect, it } from 'vitest'
import { configFromEnv } from './config.ts'
import {
  defaultGatewayLimits,
  gatewayLimitEnvNames,
  gatewayLimits,
  gatewayLimitsFromEnv,
  maxMutationsRule,
} from './gateway-limits.ts'

describe('gatewayLimitsFromEnv', () => {
  it('unset or empty: the defaults', () => {
    expect(gatewayLimitsFromEnv({})).toEqual(defaultGatewayLimits)
    expect(gatewayLimitsFromEnv({ GATEWAY_MAX_DEPTH: '', GATEWAY_MAX_COST: '  ' })).toEqual(
      defaultGatewayLimits,
    )
  })

  it('reads each GATEWAY_MAX_* variable; the others keep their default', () => {
    expect(
      gatewayLimitsFromEnv({
        GATEWAY_MAX_ALIASES: '3',
        GATEWAY_MAX_DEPTH: '7',
        GATEWAY_MAX_COST: '2500',
        GATEWAY_MAX_TOKENS: '4000',
        GATEWAY_MAX_DIRECTIVES: '0',
        GATEWAY_MAX_MUTATIONS: '1',
        GATEWAY_MAX_BODY_BYTES: ' 8388608 ',
      }),
    ).toEqual({
      maxAliases: 3,
      maxDepth: 7,
      maxCost: 2500,
      maxTokens: 4000,
      maxDirectives: 0,
      maxMutations: 1,
      maxBodyBytes: 8_388_608,
    })
    expect(gatewayLimitsFromEnv({ GATEWAY_MAX_MUTATIONS: '2' })).toEqual({
      ...defaultGatewayLimits,
      maxMutations: 2,
    })
  })

  it('every limit has its variable', () => {
    expect(Object.keys(gatewayLimitEnvNames).sort()).toEqual(
      Object.keys(defaultGatewayLimits).sort(),
    )
  })

  it.each([
    [
      'GATEWAY_MAX_DEPTH',
      'ten',
      'GATEWAY_MAX_DEPTH must be a whole number of 1 or more, got "ten"',
    ],
    ['GATEWAY_MAX_COST', '1e3', 'GATEWAY_MAX_COST must be a whole number of 1 or more, got "1e3"'],
    [
      'GATEWAY_MAX_TOKENS',
      '-5',
      'GATEWAY_MAX_TOKENS must be a whole number of 1 or more, got "-5"',
    ],
    [
      'GATEWAY_MAX_BODY_BYTES',
      '2.5',
      'GATEWAY_MAX_BODY_BYTES must be a whole number of 1 or more, got "2.5"',
    ],
    [
      'GATEWAY_MAX_MUTATIONS',
      '0',
      'GATEWAY_MAX_MUTATIONS must be a whole number of 1 or more, got "0"',
    ],
    [
      'GATEWAY_MAX_DEPTH',
      '0x10',
      'GATEWAY_MAX_DEPTH must be a whole number of 1 or more, got "0x10"',
    ],
    [
      'GATEWAY_MAX_ALIASES',
      'many',
      'GATEWAY_MAX_ALIASES must be a whole number (0 or more), got "many"',
    ],
    [
      'GATEWAY_MAX_BODY_BYTES',
      '99999999999999999999',
      'GATEWAY_MAX_BODY_BYTES must be a whole number of 1 or more, got "99999999999999999999"',
    ],
  ])('refuses %s=%s, naming the variable', (name, value, message) => {
    expect(() => gatewayLimitsFromEnv({ [name]: value })).toThrow(message)
  })

  it('configFromEnv carries them, and refuses a bad one', () => {
    const env = {
      NATS_URL: 'nats://127.0.0.1:4222',
      MONGODB_URL: 'mongodb://127.0.0.1:27017/',
      NODE_ENV: 'development',
    }
    expect(configFromEnv(env).gatewayLimits).toEqual(defaultGatewayLimits)
    expect(configFromEnv({ ...env, GATEWAY_MAX_ALIASES: '4' }).gatewayLimits).toMatchObject({
      maxAliases: 4,
    })
    expect(() => configFromEnv({ ...env, GATEWAY_MAX_ALIASES: 'x' })).toThrow(
      'GATEWAY_MAX_ALIASES must be a whole number',
    )
  })

  it('gatewayLimits: the given ones over the defaults', () => {
    expect(gatewayLimits()).toEqual(defaultGatewayLimits)
    expect(gatewayLimits({ maxDepth: 3 })).toEqual({ ...defaultGatewayLimits, maxDepth: 3 })
  })
})

describe('maxMutationsRule', () => {
  const schema = buildSchema(/* GraphQL */ `
    type Query {
      a: Int
    }
    type Mutation {
      a(n: Int): Int
      b: Int
    }
  `)
  const errors = (query: string, limit = 2) =>
    validate(schema, parse(query), [...specifiedRules, maxMutationsRule(limit)]).map((error) => ({
      message: error.message,
      code: error.extensions.code,
    }))

  it('counts mutation fields by response key, through fragments, once per fragment', () => {
    expect(errors('mutation { a b }')).toEqual([])
    expect(errors('mutation { a a b __typename }')).toEqual([]) // `a a` runs once
    expect(errors('mutation { x: a(n: 1) y: a(n: 2) b }')).toEqual([
      {
        message:
          'the request has 3 mutations; the gateway runs at most 2 in one request: send the others in their own requests',
        code: 'TOO_MANY_MUTATIONS',
      },
    ])
    expect(
      errors('mutation { ...F ... on Mutation { z: b } } fragment F on Mutation { x: a y: b }'),
    ).toHaveLength(1)
    expect(errors('mutation { ...F ...F } fragment F on Mutation { x: a y: b }')).toEqual([])
  })

  it('leaves queries alone', () => {
    expect(errors('{ x: a y: a z: a }')).toEqual([])
  })
})
