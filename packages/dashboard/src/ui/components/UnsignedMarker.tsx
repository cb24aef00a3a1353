/** Beside the link, not in it: the link's name stays the consumer group. */
export function UnsignedMarker() {
  return (
    <span className="tag bad" title="Not signed by the framework: it cannot be redriven">
      unsigned
    </span>
  )
}
