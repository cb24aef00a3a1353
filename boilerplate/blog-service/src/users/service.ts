import {
  ServiceError,
  createRuntime,
  defineServiceModule,
  hashPassword,
  parseInput,
  requireActor,
  signToken,
  verifyPassword,
  type Actor,
  type CallInfo,
  type ServiceConfig,
  type ServiceRuntime,
} from '@event-driven/service-kit'
import type { Logger } from 'pino'
import { usersGateway } from './gateway.ts'
import { z } from 'zod'
import { UserNameUpdated, UserRegistered } from '../shared/events.ts'
import type { User } from '../shared/user.ts'
import { ConcurrencyError, isDuplicateKey, newId } from '@event-driven/core'

interface UserDocument {
  _id: string
  username: string
  passwordHash: string
  firstName: string
  lastName: string
  /**
   * The position of the user's last change (registration 1, each rename the next): the version
   * of the name. Copies in other services apply only newer names.
   */
  nameVersion: number
  createdAt: Date
}

const toUser = (doc: UserDocument): User => ({
  id: doc._id,
  username: doc.username,
  firstName: doc.firstName,
  lastName: doc.lastName,
})

const name = z.string().trim().min(1, 'must not be empty').max(100, 'at most 100 characters')
const RegisterInput = z.object({
  username: z
    .string()
    .regex(/^[a-z0-9_]{3,30}$/, '3 to 30 lowercase letters, digits or underscores'),
  password: z.string().min(8, 'at least 8 characters').max(200),
  firstName: name,
  lastName: name,
})
const LoginInput = z.object({ username: z.string(), password: z.string() })
const UpdateNamesInput = z.object({ firstName: name, lastName: name })
const UserInput = z.object({ id: z.string() })

/** What a change of a user stores: the whole user when registered, the names when renamed. */
type UserChange =
  | { registered: Omit<UserDocument, 'nameVersion'> }
  | { renamed: { userId: string; firstName: string; lastName: string } }

/**
 * The users service: accounts, login tokens, names. Publishes User.registered and
 * User.nameUpdated, each with its state change (`op.change`): a user's stream is keyed by the
 * username, so two registrations of one name claim the same position and one is refused.
 */
async function startUsers(config: ServiceConfig, logger: Logger): Promise<ServiceRuntime> {
  const runtime = await createRuntime('users', config, logger)
  const users = runtime.db.collection<UserDocument>('users')
  await users.createIndex({ username: 1 }, { unique: true })

  const userState = runtime.core.entityState<UserChange>({
    type: 'user',
    // Writes only forward (by position), and again harmlessly: reconciliation calls it too.
    async apply({ position, state }) {
      if ('renamed' in state) {
        const { userId, firstName, lastName } = state.renamed
        await users.updateOne(
          { _id: userId, nameVersion: { $lt: position } },
          { $set: { firstName, lastName, nameVersion: position } },
        )
        return
      }
      try {
        await users.insertOne({ ...state.registered, nameVersion: position })
      } catch (error) {
        if (!isDuplicateKey(error)) throw error
        // Applied before; unless the username belongs to a user recorded without a change.
        if (!(await users.findOne({ _id: state.registered._id }, { projection: { _id: 1 } })))
          throw new Error(`username ${state.registered.username} belongs to another user`)
      }
    },
  })

  const register = async (input: unknown, _actor: Actor, call: CallInfo) => {
    const { username, password, firstName, lastName } = parseInput(RegisterInput, input)
    const userId = newId()
    // The command first: recorded before any state changes, under the caller's operation id.
    const op = await runtime.core.startOperation({
      id: call.operationId,
      name: 'userRegister',
      input: { username, firstName, lastName },
      actor: userId,
    })
    // A user recorded before state changes has no claim: its name is checked here.
    if (await users.findOne({ username }, { projection: { _id: 1 } })) {
      await op.fail(`username "${username}" is taken`)
      throw new ServiceError('USERNAME_TAKEN', `username "${username}" is taken`, 'username')
    }
    const user = {
      _id: userId,
      username,
      passwordHash: await hashPassword(password),
      firstName,
      lastName,
      createdAt: new Date(),
    }
    try {
      await op.change(userState, {
        key: username,
        expectedPosition: 0, // a new user: of two registrations of one name, one lands
        state: () => ({ registered: user }),
        event: UserRegistered,
        data: () => ({ userId, username, firstName, lastName }),
      })
    } catch (error) {
      if (!(error instanceof ConcurrencyError)) throw error
      await op.fail(`username "${username}" is taken`)
      throw new ServiceError('USERNAME_TAKEN', `username "${username}" is taken`, 'username')
    }
    await op.complete()
    return { operationId: op.id, user: toUser({ ...user, nameVersion: 1 }) }
  }

  const login = async (input: unknown, _actor: Actor, call: CallInfo) => {
    const { username, password } = parseInput(LoginInput, input)
    const op = await runtime.core.startOperation({
      id: call.operationId,
      name: 'userLogin',
      input: { username },
    })
    const user = await users.findOne({ username })
    // One answer for both, so a caller cannot probe which usernames exist.
    if (!user || !(await verifyPassword(password, user.passwordHash))) {
      await op.fail('wrong username or password')
      throw new ServiceError('WRONG_CREDENTIALS', 'wrong username or password')
    }
    await op.complete()
    return { operationId: op.id, token: signToken(user._id, config.authSecret), user: toUser(user) }
  }

  const updateNames = async (input: unknown, actor: Actor, call: CallInfo) => {
    const { userId } = requireActor(actor)
    const { firstName, lastName } = parseInput(UpdateNamesInput, input)
    const op = await runtime.core.startOperation({
      id: call.operationId,
      name: 'userUpdateNames',
      input: { firstName, lastName },
      actor: userId,
    })
    const user = await users.findOne({ _id: userId })
    if (!user) {
      await op.fail('the user of this token no longer exists')
      throw new ServiceError('NOT_FOUND', 'the user of this token no longer exists')
    }
    // The last rename wins: one decided on an older name takes the next free position.
    const { position } = await op.change(userState, {
      key: user.username,
      expectedPosition: user.nameVersion,
      onConflict: 'next',
      state: () => ({ renamed: { userId, firstName, lastName } }),
      event: UserNameUpdated,
      data: (nameVersion) => ({ userId, firstName, lastName, nameVersion }),
    })
    await op.complete()
    return {
      operationId: op.id,
      user: toUser({ ...user, firstName, lastName, nameVersion: position }),
    }
  }

  await runtime.start({
    register,
    login,
    updateNames,
    me: async (_input, actor) => {
      const { userId } = requireActor(actor)
      const user = await users.findOne({ _id: userId })
      return user ? toUser(user) : null
    },
    get: async (input) => {
      const user = await users.findOne({ _id: parseInput(UserInput, input).id })
      return user ? toUser(user) : null
    },
    list: async () =>
      (await users.find().sort({ createdAt: 1 }).limit(1_000).toArray()).map(toUser),
  })
  return runtime
}

export const users = defineServiceModule({
  name: 'users',
  start: startUsers,
  gateway: usersGateway,
})
