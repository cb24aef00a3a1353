// How tests in this repository resolve its packages: to their sources, under the export
// condition `@event-driven/source` (docs/packages.md), then Vite's own conditions for Node.
// The root config uses it, and so do services `event-driven new` adds to the workspace.
const conditions = ['@event-driven/source', 'node', 'import', 'development|production']

export const workspaceResolve = {
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ['@event-driven/source'] } },
}
