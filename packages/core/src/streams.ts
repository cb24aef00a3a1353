import {
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  type JetStreamManager,
  type StreamConfig,
} from '@nats-io/jetstream'
import { nanos } from '@nats-io/transport-node'
import { partitionsOf, partitionTransform } from './ordering/keyed-subjects.ts'
import { JetStreamCodes } from './server-codes.ts'

/** The JetStream stream that carries a system's events. Every service of the system names the same one. */
export interface StreamOptions {
  /** Stream name. Default `EVENTS`. */
  name?: string
  /** Subjects on the wire are `<subjectPrefix>.<Entity>.<verb>`. Default `events`. */
  subjectPrefix?: string
  /** How long the stream keeps a message. Default 7 days; 0 keeps messages until limits. */
  maxAgeMs?: number
  /** How long JetStream remembers a `Nats-Msg-Id` to drop duplicates. Default 2 minutes. */
  duplicateWindowMs?: number
  /** `limits` (keep until age/size limits) or `interest` (drop once every consumer acked). Default `limits`. */
  retention?: 'limits' | 'interest'
  /** Replicas in a cluster. Default 1. */
  replicas?: number
  /** `file` or `memory`. Default `file`. */
  storage?: 'file' | 'memory'
  /**
   * Partitions of keyed events (`defineEvent({ key })`): the stream's subject transform hashes
   * each key into one of them, and an ordered consumer group handles one event per partition at
   * a time. Default 16. Changing it on a running system: `docs/ordering.md`.
   */
  partitions?: number
}

export type ResolvedStreamOptions = Required<StreamOptions>

export const defaultStreamOptions: ResolvedStreamOptions = {
  name: 'EVENTS',
  subjectPrefix: 'events',
  maxAgeMs: 7 * 24 * 3600 * 1000,
  duplicateWindowMs: 2 * 60 * 1000,
  retention: 'limits',
  replicas: 1,
  storage: 'file',
  partitions: 16,
}

function streamConfig(options: ResolvedStreamOptions): Partial<StreamConfig> & { name: string } {
  return {
    name: options.name,
    subjects: [`${options.subjectPrefix}.>`],
    retention: options.retention === 'interest' ? RetentionPolicy.Interest : RetentionPolicy.Limits,
    storage: options.storage === 'memory' ? StorageType.Memory : StorageType.File,
    max_age: nanos(options.maxAgeMs),
    duplicate_window: nanos(options.duplicateWindowMs),
    num_replicas: options.replicas,
    subject_transform: partitionTransform(options.subjectPrefix, options.partitions),
  }
}

/** A setting of an existing stream that differs from the configuration. */
export interface StreamDifference {
  setting: string
  configured: unknown
  actual: unknown
}

/** What provisioning found or made. */
export interface ProvisionedStream {
  created: boolean
  /** Settings in which the existing stream differs from the configuration (left unchanged). */
  differences: StreamDifference[]
  /**
   * The stream's partitions of keyed events, read from its subject transform; undefined when it
   * has another transform (keyed events are then published and handled unkeyed).
   */
  partitions: number | undefined
}

/**
 * Creates the stream when it is missing. An existing stream whose settings differ is left as it
 * is: the differences are returned, for the caller to report, never silently applied. The one
 * exception: a stream with no subject transform (made before keyed events) gets the partition
 * transform, which changes nothing for the subjects it already carries.
 */
export async function provisionStream(
  jsm: JetStreamManager,
  options: ResolvedStreamOptions,
): Promise<ProvisionedStream> {
  const wanted = streamConfig(options)
  try {
    let { config } = await jsm.streams.info(options.name)
    if (!config.subject_transform?.src) {
      ;({ config } = await jsm.streams.update(options.name, {
        ...config,
        subject_transform: wanted.subject_transform,
      }))
    }
    const differences: StreamDifference[] = []
    const compare = (setting: keyof StreamConfig, configured: unknown, actual: unknown) => {
      if (JSON.stringify(configured) !== JSON.stringify(actual))
        differences.push({ setting, configured, actual })
    }
    compare('subjects', wanted.subjects, config.subjects)
    compare('retention', wanted.retention, config.retention)
    compare('storage', wanted.storage, config.storage)
    compare('max_age', wanted.max_age, config.max_age)
    compare('duplicate_window', wanted.duplicate_window, config.duplicate_window)
    compare('num_replicas', wanted.num_replicas, config.num_replicas)
    compare('subject_transform', wanted.subject_transform, config.subject_transform)
    return {
      created: false,
      differences,
      partitions: partitionsOf(config.subject_transform, options.subjectPrefix),
    }
  } catch (error) {
    if (!(error instanceof JetStreamApiError) || error.code !== JetStreamCodes.StreamNotFound)
      throw error
  }
  try {
    await jsm.streams.add(wanted)
    return { created: true, differences: [], partitions: options.partitions }
  } catch (error) {
    // Another instance created it in the meantime: compare against what it made.
    if (error instanceof JetStreamApiError && error.code === JetStreamCodes.StreamNameInUse)
      return provisionStream(jsm, options)
    throw error
  }
}
