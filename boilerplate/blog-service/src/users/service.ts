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
import { newId } from '@event-driven/core'

interface UserDocument {
  _id: string
  username: string
  passwordHash: string
  firstName: string
  lastName: string
  /** Grows with every name update; copies in other services apply only newer names. */
  nameVersion: number
  createdAt: Date
}

export interface User {
  id: string
  username: string
  firstName: string
  lastName: string
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

/** The users service: accounts, login tokens, names. Publishes User.registered and User.nameUpdated. */
async function startUsers(config: ServiceConfig, logger: Logger): Promise<ServiceRuntime> {
  const runtime = await createRuntime('users', config, logger)
  const users = runtime.db.collection<UserDocument>('users')
  await users.createIndex({ username: 1 }, { unique: true })

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
    const user: UserDocument = {
      _id: userId,
      username,
      passwordHash: await hashPassword(password),
      firstName,
      lastName,
      nameVersion: 0,
      createdAt: new Date(),
    }
    try {
      await users.insertOne(user) // the unique index decides races between two registrations
    } catch (error) {
      if ((error as { code?: number }).code === 11000) {
        await op.fail(`username "${username}" is taken`)
        throw new ServiceError('USERNAME_TAKEN', `username "${username}" is taken`, 'username')
      }
      throw error
    }
    await op.publish(UserRegistered, { userId: user._id, username, firstName, lastName })
    await op.complete()
    return { operationId: op.id, user: toUser(user) }
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
    const user = await users.findOneAndUpdate(
      { _id: userId },
      { $set: { firstName, lastName }, $inc: { nameVersion: 1 } },
      { returnDocument: 'after' },
    )
    if (!user) {
      await op.fail('the user of this token no longer exists')
      throw new ServiceError('NOT_FOUND', 'the user of this token no longer exists')
    }
    await op.publish(UserNameUpdated, {
      userId,
      firstName,
      lastName,
      nameVersion: user.nameVersion,
    })
    await op.complete()
    return { operationId: op.id, user: toUser(user) }
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
