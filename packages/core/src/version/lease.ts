import type { Collection } from 'mongodb'
import { isDuplicateKey } from '../store/insert-new.ts'
import { currentFormat } from './formats.ts'

/**
 * A lease by inserts only: each grant is a new document `<name>#<n>` (unique `_id`), so of two
 * takers of the same turn one insert lands, on any server (updates of one document are not
 * atomic on FerretDB v1). The newest grant says who holds the lease and until when; holding on
 * is taking the next turn before that; letting go is a grant that ends now.
 */
export interface LeaseGrant {
  _id: string
  format: number
  name: string
  turn: number
  holder: string
  until: Date
  grantedAt: Date
}

export type LeaseAnswer =
  { held: true; turn: number; until: Date } | { held: false; holder: string; until: Date }

export interface Lease {
  /** Takes the lease (or holds on to it) for `ms` more; refused while another holder's runs. */
  take(): Promise<LeaseAnswer>
  /** Ends this holder's lease now, so another may take it at once. */
  release(): Promise<void>
}

export function insertOnlyLease(
  grants: Collection<LeaseGrant>,
  name: string,
  holder: string,
  ms: number,
): Lease {
  const newest = async () =>
    (await grants.find({ name }).toArray()).reduce<LeaseGrant | undefined>(
      (last, grant) => (!last || grant.turn > last.turn ? grant : last),
      undefined,
    )
  const grant = async (turn: number, until: Date) => {
    try {
      await grants.insertOne({
        _id: `${name}#${turn}`,
        format: currentFormat,
        name,
        turn,
        holder,
        until,
        grantedAt: new Date(),
      })
      return true
    } catch (error) {
      if (!isDuplicateKey(error)) throw error
      return false
    }
  }
  return {
    async take() {
      const last = await newest()
      if (last && last.holder !== holder && last.until.getTime() > Date.now())
        return { held: false, holder: last.holder, until: last.until }
      const turn = (last?.turn ?? 0) + 1
      const until = new Date(Date.now() + ms)
      if (await grant(turn, until)) return { held: true, turn, until }
      const winner = await newest()
      return {
        held: false,
        holder: winner?.holder ?? 'another holder',
        until: winner?.until ?? until,
      }
    },
    async release() {
      const last = await newest()
      if (last?.holder === holder) await grant(last.turn + 1, new Date())
    },
  }
}
