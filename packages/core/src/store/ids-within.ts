/**
 * `$in` with the ids' range before it: FerretDB tests each document against every id of an
 * `$in`, but skips one outside the range at once. Documents are found about in the order they
 * were written, which is their ids' order (UUIDv7), so a batch's range holds little else.
 */
export function idsWithin(ids: string[]) {
  const sorted = [...ids].sort()
  return { $gte: sorted[0]!, $lte: sorted.at(-1)!, $in: ids }
}
