// #region
import { createHmac } from 'node:crypto'

const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' // WEBHOOK_SECRET_<NAME>
const id = 'msg_p5jXN8AQM9LWM0D4loKWxJek' // webhook-id: the same on every redelivery
const timestamp = 1614265330 // webhook-timestamp: Math.floor(Date.now() / 1000) when sending
const body = '{"test": 2432232314}' // the raw body, byte for byte as sent

const key = Buffer.from(secret.slice('whsec_'.length), 'base64')
const mac = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')
console.log(`webhook-signature: v1,${mac}`)
// webhook-signature: v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=
// #endregion
