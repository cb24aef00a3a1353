import './flow.css'

/** What the graph's shapes and colours mean, and how to read an edge's label. */
export function FlowLegend() {
  const swatch = (className: string, rx = 3) => (
    <svg width="28" height="16" aria-hidden="true" className="flow-graph">
      <g className={`flow-node ${className}`}>
        <rect x="1" y="1" width="26" height="14" rx={rx} />
      </g>
    </svg>
  )
  const line = (className: string) => (
    <svg width="28" height="16" aria-hidden="true" className="flow-graph">
      <g className={`flow-edge ${className}`}>
        <path d="M1,8 L27,8" />
      </g>
    </svg>
  )
  return (
    <section className="flow-legend" aria-label="Legend">
      <h2>Legend</h2>
      <ul>
        <li>{swatch('service')} a service publishing from its operations</li>
        <li>{swatch('subject', 7)} a subject (select one)</li>
        <li>{swatch('group')} a consumer group</li>
        <li>{line('plain')} publishes, delivers, emits</li>
        <li>{line('failing')} some runs failed</li>
        <li>{line('downstream')} what follows the selected subject</li>
      </ul>
      <p className="muted">
        An edge reads “events per minute · count” over the window; a second, red line gives the
        share of handler runs that failed.
      </p>
    </section>
  )
}
