import { describe, expect, it } from 'vitest'
import { handlerNamePattern, serviceNamePattern, subjectPattern } from './names.ts'

describe('names', () => {
  it('takes service names of lowercase letters, digits and dashes, starting with a letter', () => {
    for (const name of ['blogs', 'order-history', 'b2b']) expect(name).toMatch(serviceNamePattern)
    for (const name of ['Blogs', '9lives', '-x', 'a_b', 'a.b', ''])
      expect(name).not.toMatch(serviceNamePattern)
  })

  it('takes subjects <Entity>.<pastTenseVerb> and camelCase handler names', () => {
    expect('User.nameUpdated').toMatch(subjectPattern)
    for (const subject of ['user.created', 'User', 'User.Created', 'User.name.updated'])
      expect(subject).not.toMatch(subjectPattern)
    expect('updateAuthorName').toMatch(handlerNamePattern)
    for (const name of ['UpdateAuthor', 'update-author', '1st'])
      expect(name).not.toMatch(handlerNamePattern)
  })
})
