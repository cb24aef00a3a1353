// #region
import { startSlackReceiver } from '@event-driven/testing'

const slack = await startSlackReceiver({ failFirst: 2 }) // answer 500 twice, then 200
process.env.SLACK_WEBHOOK_URL = slack.url
// ...
const [message] = await slack.waitForDelivered(1)
slack.posts // every POST with its status; slack.delivered: those answered 200
slack.failNext(3, 429) // the next three get 429
await slack.close()
// #endregion
