import { afterAll } from 'vitest'

// #region
import { createTestNamespace, getTestServers } from '@event-driven/testing'

const servers = await getTestServers()
const ns = createTestNamespace(servers, 'outbox')
afterAll(() => ns.cleanup())

ns.database // t_outbox_1a2b3c4d: this file's MongoDB database
ns.subjectPrefix // t_outbox_1a2b3c4d: prefix for subjects and stream names
ns.bucket // t-outbox-1a2b3c4d: this file's S3 bucket
// #endregion
