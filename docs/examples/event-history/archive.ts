import { createService } from '@event-driven/core'

// What the block in the docs assumes: where NATS and MongoDB are, S3 credentials.
declare const nats: string, mongodb: string
declare const credentials: { accessKeyId: string; secretAccessKey: string }

// #region
const service = await createService({
  name: 'blogs',
  nats,
  mongodb,
  archive: {
    bucket: 'acme-events',
    prefix: 'prod/', // optional
    s3: { endpoint: 'http://127.0.0.1:9000', region: 'us-east-1', credentials }, // or an S3Client
  },
  retention: { eventsMs: 30 * 86_400_000, operationsMs: 30 * 86_400_000 },
})
// #endregion
await service.stop()
