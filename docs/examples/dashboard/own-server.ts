import type { ApiKey } from '@event-driven/core/admin'
import type { Service } from '@event-driven/core'
import { dashboardHandler } from '@event-driven/dashboard'

// What the block in the docs assumes: a running service and the admin API keys.
declare const service: Service
declare const apiKeys: ApiKey[]

// #region
import { createServer } from 'node:http'
import { createAdminHandler } from '@event-driven/core/admin'

const admin = createAdminHandler({ service, apiKeys, ui: await dashboardHandler() })
createServer((req, res) => (req.url?.startsWith('/health') ? res.end('ok') : admin(req, res)))
// #endregion
