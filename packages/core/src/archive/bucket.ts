import type { S3Client } from '@aws-sdk/client-s3'
import type { Logger } from 'pino'
import { s3Sdk } from '../optional-peers.ts'

/** Creates the archive bucket the first time it is needed; later calls ask S3 nothing. */
export function bucketEnsurer(s3: S3Client, bucket: string, logger: Logger): () => Promise<void> {
  let ready = false
  return async () => {
    if (ready) return
    const { CreateBucketCommand, HeadBucketCommand } = s3Sdk()
    try {
      await s3.send(new HeadBucketCommand({ Bucket: bucket }))
    } catch (error) {
      if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode !== 404)
        throw error
      // Another archiver may create it at the same moment: that is as good.
      await s3.send(new CreateBucketCommand({ Bucket: bucket })).catch((error: unknown) => {
        if ((error as Error).name !== 'BucketAlreadyOwnedByYou') throw error
      })
      logger.info({ bucket }, 'created the archive bucket')
    }
    ready = true
  }
}
