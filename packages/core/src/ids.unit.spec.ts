import { describe, expect, it } from 'vitest'
import { childEventId, newId } from './ids.ts'

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

describe('event ids', () => {
  it('newId is a UUID v7 that sorts by creation time', () => {
    const earlier = newId(1_700_000_000_000)
    const later = newId(1_700_000_000_001)
    expect(earlier).toMatch(uuid)
    expect(earlier[14]).toBe('7')
    expect(earlier < later).toBe(true)
    expect(newId()).not.toBe(newId())
  })

  it('childEventId is the same for the same parent, group, subject and ordinal, and differs otherwise', () => {
    const id = childEventId('parent', 'blogs.updateAuthor', 'Blog.authorUpdated', 1)
    expect(id).toMatch(uuid)
    expect(id[14]).toBe('8')
    expect(childEventId('parent', 'blogs.updateAuthor', 'Blog.authorUpdated', 1)).toBe(id)
    const others = [
      childEventId('other', 'blogs.updateAuthor', 'Blog.authorUpdated', 1),
      childEventId('parent', 'comments.updateAuthor', 'Blog.authorUpdated', 1),
      childEventId('parent', 'blogs.updateAuthor', 'Blog.renamed', 1),
      childEventId('parent', 'blogs.updateAuthor', 'Blog.authorUpdated', 2),
    ]
    expect(new Set([id, ...others]).size).toBe(5)
  })
})
