/**
 * Newer and Older buttons for a keyset-paged list. `pages` holds the `before` of each page shown
 * so far (the first is undefined: the newest page); Older appends the current page's `next`.
 */
export function Pager({
  pages,
  next,
  onPages,
}: {
  pages: (string | undefined)[]
  next: string | null | undefined
  onPages: (pages: (string | undefined)[]) => void
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
