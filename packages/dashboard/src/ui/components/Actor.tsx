/** The actor as recorded, in text: a string as it is, anything else as JSON. */
export function actorText(actor: unknown): string | null {
  if (actor === null || actor === undefined) return null
  return typeof actor === 'string' ? actor : JSON.stringify(actor)
}

/**
 * Who an operation ran for: the display name the service gave (`actorName`), with the actor as
 * recorded on hover; without a name, the actor as recorded.
 */
export function Actor({ actor, name }: { actor: unknown; name?: string | undefined }) {
  const recorded = actorText(actor)
  if (recorded === null) return <span className="muted">no actor</span>
  if (!name) return <span className="actor">{recorded}</span>
  return (
    <span className="actor" title={recorded} data-actor={recorded}>
      {name}
    </span>
  )
}
