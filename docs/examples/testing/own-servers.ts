import { createService } from '@event-driven/core'

// #region
import { startNatsServer, startS3Server, startTcpProxy } from '@event-driven/testing'

const broker = await startNatsServer() // a nats-server of this test's own (needs NATS_SERVER_BIN)
await broker.stop() // JetStream data stays on disk
await broker.start() // same port, same data
await broker.dispose()

const s3 = await startS3Server() // a versitygw of this test's own (needs VERSITYGW_BIN): s3.s3 has
await s3.stop() //                   its endpoint and credentials; objects stay across a restart

const url = new URL(process.env.MONGODB_URL!)
const proxy = await startTcpProxy(url.hostname, Number(url.port)) // MongoDB behind a proxy
const service = await createService({
  name: 'billing',
  nats: process.env.NATS_URL!,
  mongodb: proxy.proxiedUrl(process.env.MONGODB_URL!), // the service's MongoDB goes through it
})
await proxy.cut() // every connection dropped, new ones refused: the server looks down
await proxy.restore()
// #endregion
await service.stop()
