import type { Service } from '@event-driven/core'

// What the block in the docs assumes: a service, and the time range to replay.
declare const service: Service
declare const since: Date, until: Date

// #region
const result = await service.replay({
  select: { subjects: ['User.nameUpdated'], since, until }, // or operationId, consumerGroup
  from: 's3', // 'mongodb' (events and the outbox), 's3', or 'auto' (default: MongoDB, then S3)
  to: 'blogs.onUserNameUpdated', // one consumer group
  dryRun: false,
  onProgress: ({ done, total }) => {},
})
// { replayId, matched, delivered, dryRun }
// #endregion
