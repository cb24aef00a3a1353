import type { ArchiveOptions } from './archiver.ts'

/**
 * Archive settings from the environment: `ARCHIVE_BUCKET` (unset: archiving off),
 * `ARCHIVE_PREFIX`, `S3_URL` (unset: AWS), `S3_REGION` (default us-east-1), and
 * `S3_ACCESS_KEY_ID` + `S3_SECRET_ACCESS_KEY` (unset: the AWS SDK's own credential chain).
 */
export function archiveOptionsFromEnv(
  env: NodeJS.ProcessEnv = process.env,
): ArchiveOptions | undefined {
  const bucket = env.ARCHIVE_BUCKET
  if (!bucket) return undefined
  const accessKeyId = env.S3_ACCESS_KEY_ID
  const secretAccessKey = env.S3_SECRET_ACCESS_KEY
  return {
    bucket,
    ...(env.ARCHIVE_PREFIX ? { prefix: env.ARCHIVE_PREFIX } : {}),
    s3: {
      ...(env.S3_URL ? { endpoint: env.S3_URL } : {}),
      region: env.S3_REGION ?? 'us-east-1',
      ...(accessKeyId && secretAccessKey ? { credentials: { accessKeyId, secretAccessKey } } : {}),
    },
  }
}
