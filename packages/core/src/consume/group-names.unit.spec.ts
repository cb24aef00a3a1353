import { describe, expect, it } from 'vitest'
import {
  consumerGroupName,
  consumerGroupOf,
  durableName,
  durableOf,
  splitConsumerGroup,
} from './group-names.ts'

describe('consumer group names', () => {
  it('names a group and its durable from the service and the handler', () => {
    expect(consumerGroupName('blogs', 'updateAuthorName')).toBe('blogs.updateAuthorName')
    expect(durableName('blogs', 'updateAuthorName')).toBe('blogs_updateAuthorName')
  })

  it('converts each way', () => {
    expect(durableOf('blog-api.onUserNameUpdated')).toBe('blog-api_onUserNameUpdated')
    expect(consumerGroupOf('blog-api_onUserNameUpdated')).toBe('blog-api.onUserNameUpdated')
    expect(splitConsumerGroup('blogs.updateAuthorName')).toEqual({
      service: 'blogs',
      handler: 'updateAuthorName',
    })
  })

  it('keeps a name it cannot convert as it is', () => {
    expect(durableOf('dlq_mover')).toBe('dlq_mover')
    expect(consumerGroupOf('mover')).toBe('mover')
    expect(splitConsumerGroup('nodot')).toBeUndefined()
    expect(splitConsumerGroup('.handler')).toBeUndefined()
  })
})
