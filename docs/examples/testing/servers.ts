// #region
import { getTestServers } from '@event-driven/testing'

const servers = await getTestServers()
servers.natsUrl // nats://127.0.0.1:4222
servers.mongodbUrl // mongodb://127.0.0.1:27017/
servers.s3 // { endpoint, region, accessKeyId, secretAccessKey }
servers.env // the same as NATS_URL, MONGODB_URL, S3_* for child processes
// #endregion
