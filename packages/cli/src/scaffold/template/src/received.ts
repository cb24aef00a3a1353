/** What the handlers keep of each event they handle (the event itself is core's ReceivedEvent). */
export interface ReceivedRecord {
  _id: string
  subject: string
  operationId: string
  receivedAt: Date
}

/** Where they keep it: the service passes its MongoDB collection, a test an in-memory fake. */
export interface ReceivedStore {
  /** Writes the document once: a second call with the same `_id` changes nothing. */
  keep(doc: ReceivedRecord): Promise<void>
}
