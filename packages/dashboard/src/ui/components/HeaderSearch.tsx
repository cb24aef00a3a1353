import { useState } from 'react'
import { hashOf } from '../route.ts'

/**
 * The header's search, on every page: an operation's id, name or actor, an event's id or a
 * subject opens the operations page searched for it (`#/operations?search=…`).
 */
export function HeaderSearch() {
  const [text, setText] = useState('')
  return (
    <form
      role="search"
      className="header-search"
      onSubmit={(e) => {
        e.preventDefault()
        const search = text.trim()
        if (search) window.location.hash = hashOf(['operations'], { search })
      }}
    >
      <input
        type="search"
        aria-label="Search operations, events and subjects"
        placeholder="Operation, event or subject"
        value={text}
        onChange={(e) => setText(e.target.value)}
      />
    </form>
  )
}
