/**
 * Keyset paging, newest first by a time field then `_id`: the filter for what comes after the
 * page before's last record. A skip would read every record it passes (FerretDB reads them all
 * anyway, MongoDB's index walks them), and its pages shift as records arrive; a keyset page
 * always starts right after the record the caller saw last.
 */
export function olderThan<Field extends string>(
  field: Field,
  last: { _id: string } & Record<Field, Date>,
) {
  return {
    $or: [{ [field]: { $lt: last[field] } }, { [field]: last[field], _id: { $lt: last._id } }],
  }
}

/** The page and the next page's `before`: the page's last id when more follow, null on the last. */
export function keysetPage<T extends { _id: string }>(found: T[], limit: number) {
  const page = found.slice(0, limit)
  return { page, next: found.length > limit ? (page.at(-1)?._id ?? null) : null }
}
