import { createTestNamespace, eventually, getTestServers } from '@event-driven/testing'
import { afterAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import type { ReceivedEvent } from '../consume/handler.ts'
import { ConfigurationError } from '../errors.ts'
import { defineEvent, type EventDefinition } from '../event-definition.ts'
import { createTestService } from '../testing/test-service.ts'
import { migrateEvents } from './migrate.ts'

const servers = await getTestServers()
const ns = createTestNamespace(servers, 'versions')
afterAll(() => ns.cleanup())

/** Version 1 had one `name`; version 2 splits it. */
const ProfileRenamedV1 = defineEvent({
  subject: 'Profile.renamed',
  version: 1,
  schema: z.object({ profileId: z.string(), name: z.string() }),
})
const ProfileRenamedV2 = defineEvent({
  subject: 'Profile.renamed',
  version: 2,
  schema: z.object({ profileId: z.string(), firstName: z.string(), lastName: z.string() }),
  upcasters: {
    1: (v1: { profileId: string; name: string }) => {
      const [firstName = '', ...rest] = v1.name.split(' ')
      return { profileId: v1.profileId, firstName, lastName: rest.join(' ') }
    },
  },
})

describe('event versions', () => {
  it('v1 events stored, v2 defined with an upcaster: handlers see v2 for old and new events, and migrate rewrites the old', async () => {
    const old = await createTestService(ns, servers, 'profiles-v1')
    const op = await old.startOperation({ name: 'profilesImport' })
    for (const [profileId, name] of [
      ['p1', 'Ada Lovelace'],
      ['p2', 'Grace Hopper'],
      ['p3', 'Alan Turing'],
    ]) {
      await op.publish(ProfileRenamedV1, { profileId: profileId!, name: name! })
    }
    await old.stop()

    const seen: ReceivedEvent<z.infer<typeof ProfileRenamedV2.schema>>[] = []
    const current = await createTestService(ns, servers, 'profiles')
    current.on(ProfileRenamedV2, { handler: 'onRenamed' }, async (event) => {
      seen.push(event)
    })
    await current.start()
    try {
      const op2 = await current.startOperation({ name: 'profileRename' })
      await op2.publish(ProfileRenamedV2, {
        profileId: 'p4',
        firstName: 'Edsger',
        lastName: 'Dijkstra',
      })
      await eventually(() => expect(seen).toHaveLength(4))
      expect(seen.map((e) => [e.version, e.publishedVersion, e.data])).toEqual(
        expect.arrayContaining([
          [2, 1, { profileId: 'p1', firstName: 'Ada', lastName: 'Lovelace' }],
          [2, 1, { profileId: 'p2', firstName: 'Grace', lastName: 'Hopper' }],
          [2, 1, { profileId: 'p3', firstName: 'Alan', lastName: 'Turing' }],
          [2, 2, { profileId: 'p4', firstName: 'Edsger', lastName: 'Dijkstra' }],
        ]),
      )

      // One stored v1 event no upcaster can lift: migrate reports it and leaves it as stored.
      await eventually(async () => expect(await current.store.events.countDocuments()).toBe(4))
      await current.store.events.insertOne({
        _id: 'broken-v1',
        subject: 'Profile.renamed',
        version: 1,
        data: { profileId: 'p5' },
        operationId: op.id,
        parentId: op.id,
        publishedBy: { service: 'profiles-v1' },
        createdAt: new Date(),
        publishedAt: new Date(),
      })
      const dryRun = await migrateEvents({
        store: current.store,
        definitions: [ProfileRenamedV2],
        dryRun: true,
      })
      expect(dryRun).toMatchObject({
        dryRun: true,
        total: 4,
        migrated: 0,
        groups: [{ subject: 'Profile.renamed', from: 1, to: 2, count: 4 }],
      })
      expect(await current.store.events.countDocuments({ version: 1 })).toBe(4)

      const progress: number[] = []
      const report = await migrateEvents({
        store: current.store,
        definitions: [ProfileRenamedV2],
        batchSize: 2,
        onProgress: ({ done }) => progress.push(done),
      })
      expect(report).toMatchObject({
        total: 4,
        migrated: 3,
        failed: [
          {
            id: 'broken-v1',
            version: 1,
            reason: expect.stringMatching(/upcaster from version 1 to 2 failed/) as string,
          },
        ],
      })
      expect(progress.at(-1)).toBe(3)
      const stored = await current.store.events.find({ _id: { $ne: 'broken-v1' } }).toArray()
      expect(stored.map((e) => e.version)).toEqual([2, 2, 2, 2])
      expect(stored.filter((e) => e.migratedFrom === 1).map((e) => e.data)).toEqual(
        expect.arrayContaining([{ profileId: 'p1', firstName: 'Ada', lastName: 'Lovelace' }]),
      )
      // Run again: only the one that cannot be lifted is still old; nothing is lifted twice.
      const again = await migrateEvents({ store: current.store, definitions: [ProfileRenamedV2] })
      expect(again).toMatchObject({ total: 1, migrated: 0 })
    } finally {
      await current.stop()
    }
  })

  it('a v3 with no upcaster from v2 is refused at startup, and so is publishing a second version of a subject', async () => {
    expect(() =>
      defineEvent({
        subject: 'Profile.renamed',
        version: 3,
        schema: z.object({ profileId: z.string(), fullName: z.string() }),
        upcasters: ProfileRenamedV2.upcasters,
      }),
    ).toThrow(/Profile\.renamed version 3: no upcaster from version 2 to 3/)

    const service = await createTestService(ns, servers, 'profiles-v3')
    try {
      // A definition made by hand gets the same check when it is registered.
      const handMade = { ...ProfileRenamedV2, version: 3 } as EventDefinition<string, unknown>
      expect(() => service.on(handMade, { handler: 'onRenamed' }, async () => undefined)).toThrow(
        ConfigurationError,
      )
      service.on(ProfileRenamedV2, { handler: 'onRenamedV2' }, async () => undefined)
      const op = await service.startOperation({ name: 'profileRename' })
      await expect(op.publish(ProfileRenamedV1, { profileId: 'p1', name: 'Ada' })).rejects.toThrow(
        'profiles-v3: Profile.renamed is defined here as version 2 and as version 1; import one definition per subject',
      )
    } finally {
      await service.stop()
    }
  })
})
