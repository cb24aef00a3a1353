import { jetstreamManager } from '@nats-io/jetstream'
import { connect } from '@nats-io/transport-node'
import { eventually } from './eventually.ts'
import { freePort } from './ports.ts'
import { serverBinary, startOwnServer, type OwnServer } from './own-server.ts'

/** One nats-server of a test's cluster: stop, kill and start it again with its data. */
export interface NatsClusterNode extends OwnServer {
  /** Its server name (`n1`, `n2`, …): what JetStream names as a stream's leader. */
  name: string
  url: string
}

/** A JetStream cluster of a test's own, on loopback. */
export interface NatsCluster {
  /** Every node's URL, comma-separated, as `NATS_URL` and the service options take it. */
  url: string
  nodes: NatsClusterNode[]
  /** The node that leads the stream's replicas now (JetStream's stream info). */
  streamLeader(stream: string): Promise<NatsClusterNode>
  /** Waits until the cluster has a JetStream meta leader (after a node came back, say). */
  ready(): Promise<void>
  /** Stops every node and removes their data. */
  dispose(): Promise<void>
}

/**
 * Starts `size` nats-servers with JetStream as one cluster (routes between all of them, each its
 * own ports and store folder) and waits until JetStream answers. Needs `NATS_SERVER_BIN`, which
 * `pnpm infra:up` prints.
 */
export async function startNatsCluster(
  env: NodeJS.ProcessEnv = process.env,
  { size = 3 }: { size?: number } = {},
): Promise<NatsCluster> {
  const command = serverBinary(env, 'NATS_SERVER_BIN', 'a NATS cluster')
  const routePorts = await distinctFreePorts(size)
  const routes = routePorts.map((port) => `nats://127.0.0.1:${port}`).join(',')
  const nodes: NatsClusterNode[] = []
  try {
    // Started together: each node waits for the others' routes, JetStream for a quorum.
    const started = await Promise.all(
      routePorts.map((routePort, i) =>
        startOwnServer({
          name: `nats-n${i + 1}`,
          command,
          args: (port, dir) => [
            ...['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', dir],
            ...['-n', `n${i + 1}`, '--cluster_name', 'event-driven-test'],
            ...['--cluster', `nats://127.0.0.1:${routePort}`, '--routes', routes],
          ],
        }),
      ),
    )
    for (const [i, server] of started.entries())
      nodes.push({ ...server, name: `n${i + 1}`, url: `nats://127.0.0.1:${server.port}` })
  } catch (error) {
    await Promise.all(nodes.map((node) => node.dispose()))
    throw error
  }
  const url = nodes.map((node) => node.url).join(',')
  const withManager = async <T>(
    use: (jsm: Awaited<ReturnType<typeof jetstreamManager>>) => Promise<T>,
  ) => {
    const nc = await connect({ servers: nodes.map((node) => node.url), timeout: 2_000 })
    try {
      return await use(await jetstreamManager(nc))
    } finally {
      await nc.close()
    }
  }
  const ready = () =>
    eventually(() => withManager((jsm) => jsm.getAccountInfo()), { timeoutMs: 30_000 }).then(
      () => undefined,
    )
  await ready()
  return {
    url,
    nodes,
    ready,
    streamLeader: (stream) =>
      eventually(async () => {
        const leader = await withManager(
          async (jsm) => (await jsm.streams.info(stream)).cluster?.leader,
        )
        const node = nodes.find((n) => n.name === leader)
        if (!node) throw new Error(`stream ${stream} has no leader yet (${String(leader)})`)
        return node
      }),
    dispose: async () => {
      await Promise.all(nodes.map((node) => node.dispose()))
    },
  }
}

async function distinctFreePorts(count: number): Promise<number[]> {
  const ports = new Set<number>()
  while (ports.size < count) ports.add(await freePort())
  return [...ports]
}
