// #region
import {
  gatewayPermissions,
  natsAuthorizationConfig,
  operatorPermissions,
  servicePermissions,
} from '@event-driven/service-kit'

const system = { stream: 'EVENTS', subjectPrefix: 'events', rpcPrefix: 'rpc' }
const config = natsAuthorizationConfig([
  {
    user: 'users',
    password: '…',
    permissions: servicePermissions(system, { name: 'users', entities: ['User'] }),
  },
  {
    user: 'comments',
    password: '…',
    permissions: servicePermissions(system, {
      name: 'comments',
      entities: ['Comment'],
      calls: ['blogs'],
    }),
  },
  { user: 'gateway', password: '…', permissions: gatewayPermissions(system) },
  { user: 'operator', password: '…', permissions: operatorPermissions(system) },
  { nkey: 'UD…', permissions: servicePermissions(system, { name: 'blogs', entities: ['Blog'] }) },
])
// #endregion
