// Profiles one pipeline's throughput run: node --cpu-prof --cpu-prof-dir=DIR src/profile-run.ts framework 3000
import { benchContext, cleanup } from './context.ts'
import { benchServers } from './servers.ts'
import { measureThroughput } from './throughput.ts'

const pipeline = process.argv[2] === 'raw' ? 'raw' : 'framework'
const events = Number(process.argv[3] ?? 3_000)
const servers = benchServers()
const ctx = benchContext(servers.natsUrl, servers.mongodbUrl)
try {
  console.log(await measureThroughput(ctx, pipeline, { events, bytes: 200, window: 64 }))
} finally {
  await cleanup(ctx)
  servers.stop()
}
