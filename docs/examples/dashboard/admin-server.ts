import type { ApiKey } from '@event-driven/core/admin'
import type { Service } from '@event-driven/core'

// What the block in the docs assumes: a running service and the admin API keys.
declare const service: Service
declare const apiKeys: ApiKey[]

// #region
import { startAdminServer } from '@event-driven/core/admin'
import { dashboardHandler } from '@event-driven/dashboard'

await startAdminServer({ service, apiKeys, port: 4001, ui: await dashboardHandler() })
// #endregion
