import { useState } from 'react'

type Pages = (string | undefined)[]

/**
 * The `before` of each page shown so far (the first is undefined: the newest page), for the
 * list that `key` (its filters) names: other filters start again from the newest page.
 */
export function usePages(key: string): [Pages, (pages: Pages) => void] {
  const [paging, setPaging] = useState<{ key: string; pages: Pages }>({ key, pages: [undefined] })
  const pages = paging.key === key ? paging.pages : [undefined]
  return [pages, (next) => setPaging({ key, pages: next })]
}

/**
 * Newer and Older buttons for a keyset-paged list. `pages` holds the `before` of each page shown
 * so far (the first is undefined: the newest page); Older appends the current page's `next`.
 */
export function Pager({
  pages,
  next,
  onPages,
}: {
  pages: Pages
  next: string | null | undefined
  onPages: (pages: Pages) => void
}) {
  return (
    <p>
      <button disabled={pages.length === 1} onClick={() => onPages(pages.slice(0, -1))}>
        Newer
      </button>{' '}
      <span className="muted">page {pages.length}</span>{' '}
      <button disabled={!next} onClick={() => next && onPages([...pages, next])}>
        Older
      </button>
    </p>
  )
}
