import { useCallback, useEffect, useRef, useState, type ReactNode } from 'react'
import {
  api,
  Unauthorized,
  type Chain,
  type ChainEvent,
  type DlqActionName,
  type DlqCycle,
  type DlqEntry,
  type DlqEntryDetail,
  type GroupRow,
  type OperationRow,
  type SubjectRow,
  type Who,
} from './api.ts'

/** A hash segment decoded; a malformed one (typed by hand) as it is, rather than a crash. */
function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment)
  } catch {
    return segment
  }
}

/** `#/operations/<id>` → ['operations', '<id>'] */
function useRoute(): string[] {
  const read = () => window.location.hash.replace(/^#\/?/, '').split('/').map(decodeSegment)
  const [route, setRoute] = useState(read)
  useEffect(() => {
    const onChange = () => setRoute(read())
    window.addEventListener('hashchange', onChange)
    return () => window.removeEventListener('hashchange', onChange)
  }, [])
  return route
}

/** Loads, reloads every `everyMs` (live pages), and reports a lost session to the app. */
function useLoad<T>(
  load: () => Promise<T>,
  deps: unknown[],
  onSignedOut: () => void,
  everyMs?: number,
) {
  const [data, setData] = useState<T | null>(null)
  const [error, setError] = useState<string | null>(null)
  const run = useCallback(() => {
    load().then(
      (value) => {
        setData(value)
        setError(null)
      },
      (e: unknown) => (e instanceof Unauthorized ? onSignedOut() : setError((e as Error).message)),
    )
  }, deps)
  useEffect(() => {
    run()
    if (!everyMs) return
    const timer = setInterval(run, everyMs)
    return () => clearInterval(timer)
  }, [run, everyMs])
  return { data, error, reload: run }
}

/** A JSON payload indented; anything else (the payload that failed to parse) as it came. */
function pretty(payload: string): string {
  try {
    return JSON.stringify(JSON.parse(payload), null, 2)
  } catch {
    return payload
  }
}

const time = (iso: string | null) => (iso ? new Date(iso).toLocaleString() : '—')

const dlqEntryHref = (id: string) => `#/dlq/${encodeURIComponent(id)}`

export function App() {
  const [who, setWho] = useState<Who | null | undefined>(undefined)
  const [signOutError, setSignOutError] = useState<string | null>(null)
  const route = useRoute()
  useEffect(() => {
    api.session().then(
      (s) => setWho(s),
      () => setWho(null),
    )
  }, [])
  const signedOut = useCallback(() => setWho(null), [])
  if (who === undefined) return <p className="muted">Loading…</p>
  if (who === null) return <SignIn onSignedIn={setWho} />
  const page = route[0] || 'operations'
  const id = route[1]
  return (
    <>
      <header>
        <strong>event-driven</strong>
        <nav aria-label="pages">
          {[
            ['operations', 'Operations'],
            ['subjects', 'Subjects'],
            ['groups', 'Consumer groups'],
            ['dlq', 'Dead letter queue'],
          ].map(([key, label]) => (
            <a key={key} href={`#/${key}`} aria-current={page === key ? 'page' : undefined}>
              {label}
            </a>
          ))}
        </nav>
        <span className="muted">
          {who.name}
          {who.role === 'read' && ' (read-only)'}
        </span>
        <button
          onClick={() => {
            // Signed out only once the server recorded it: otherwise the cookie still works.
            api.signOut().then(
              () => setWho(null),
              (e: unknown) =>
                e instanceof Unauthorized ? setWho(null) : setSignOutError((e as Error).message),
            )
          }}
        >
          Sign out
        </button>
        {signOutError && <p role="alert">{signOutError}</p>}
      </header>
      <main>
        {page === 'operations' && !id && <Operations onSignedOut={signedOut} />}
        {page === 'operations' && id && <OperationPage id={id} onSignedOut={signedOut} />}
        {page === 'subjects' && <Subjects onSignedOut={signedOut} />}
        {page === 'groups' && <Groups onSignedOut={signedOut} />}
        {page === 'dlq' && !id && <Dlq onSignedOut={signedOut} />}
        {page === 'dlq' && id && (
          <DlqEntryPage key={id} id={id} onSignedOut={signedOut} readOnly={who.role === 'read'} />
        )}
      </main>
    </>
  )
}

function SignIn({ onSignedIn }: { onSignedIn: (who: Who) => void }) {
  const [key, setKey] = useState('')
  const [error, setError] = useState<string | null>(null)
  return (
    <form
      className="sign-in"
      onSubmit={(e) => {
        e.preventDefault()
        api.signIn(key).then(
          (s) => {
            window.history.replaceState(null, '', '/#/operations')
            onSignedIn(s)
          },
          // 429 (too many failed attempts) says when to try again.
          (e: unknown) =>
            setError(e instanceof Unauthorized ? 'That key is not valid.' : (e as Error).message),
        )
      }}
    >
      <h1>Sign in</h1>
      <label>
        Admin API key
        <input type="password" autoFocus value={key} onChange={(e) => setKey(e.target.value)} />
      </label>
      <button type="submit">Sign in</button>
      {error && <p role="alert">{error}</p>}
    </form>
  )
}

type PageProps = { onSignedOut: () => void }

function Operations({ onSignedOut }: PageProps) {
  const [search, setSearch] = useState('')
  const [skip, setSkip] = useState(0)
  const limit = 20
  const { data, error } = useLoad(
    () => api.operations({ search, skip, limit }),
    [search, skip],
    onSignedOut,
    5_000,
  )
  return (
    <section>
      <h1>Operations</h1>
      <input
        type="search"
        aria-label="Search operations by name, actor or id"
        placeholder="Search by name, actor or id"
        value={search}
        onChange={(e) => {
          setSearch(e.target.value)
          setSkip(0)
        }}
      />
      {error && <p role="alert">{error}</p>}
      <table>
        <thead>
          <tr>
            <th>Name</th>
            <th>Actor</th>
            <th>Status</th>
            <th>Started</th>
            <th>Events</th>
            <th>Failures</th>
          </tr>
        </thead>
        <tbody>
          {data?.operations.map((o: OperationRow) => (
            <tr key={o.id}>
              <td>
                <a href={`#/operations/${encodeURIComponent(o.id)}`}>{o.name}</a>
              </td>
              <td>
                {o.actor === null
                  ? '—'
                  : String(typeof o.actor === 'string' ? o.actor : JSON.stringify(o.actor))}
              </td>
              <td>{o.status}</td>
              <td>{time(o.startedAt)}</td>
              <td>{o.events}</td>
              <td className={o.failures > 0 ? 'bad' : undefined}>{o.failures}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p>
        <button disabled={skip === 0} onClick={() => setSkip(Math.max(0, skip - limit))}>
          Newer
        </button>{' '}
        <span className="muted">
          {data
            ? `${data.total === 0 ? 0 : skip + 1}–${Math.min(skip + limit, data.total)} of ${data.total}`
            : ''}
        </span>{' '}
        <button
          disabled={!data || skip + limit >= data.total}
          onClick={() => setSkip(skip + limit)}
        >
          Older
        </button>
      </p>
    </section>
  )
}

/** The chain as a tree: the operation, its events, the groups that handled each, their children. */
function OperationPage({ id, onSignedOut }: PageProps & { id: string }) {
  const { data, error } = useLoad(() => api.chain(id), [id], onSignedOut, 2_000)
  const [open, setOpen] = useState<ChainEvent | null>(null)
  if (error) return <p role="alert">{error}</p>
  if (!data) return <p className="muted">Loading…</p>
  const chain: Chain = data
  const children = (parentId: string) => chain.events.filter((e) => e.parentId === parentId)
  const node = (event: ChainEvent): ReactNode => (
    <li key={event.id} data-event={event.subject}>
      <button className="event" onClick={() => setOpen(event)} aria-label={`Open ${event.subject}`}>
        <strong>{event.subject}</strong> <span className="muted">v{event.version}</span>{' '}
        <span className="muted">{time(event.createdAt)}</span>
        {event.publishedBy && <span className="muted"> · by {event.publishedBy}</span>}
      </button>
      <div className="groups">
        {event.handledBy.map((g) => (
          <span key={g} className="ok">
            ✓ {g}
          </span>
        ))}
        {event.failures.map((f) => (
          <span key={f.consumerGroup} className="bad" title={f.lastError}>
            ✗ {f.consumerGroup}: {f.failures} failures{f.inDeadLetterQueue ? ' (in the DLQ)' : ''} —{' '}
            {f.lastError}
          </span>
        ))}
      </div>
      {children(event.id).length > 0 && <ul>{children(event.id).map(node)}</ul>}
    </li>
  )
  return (
    <section>
      <h1>
        {chain.name} <span className="muted">{chain.status}</span>
      </h1>
      <p className="muted">
        {chain.id} · {chain.actor ?? 'no actor'} · {time(chain.startedAt)} · {chain.events.length}{' '}
        events
      </p>
      <ul className="tree">
        <li>
          <strong>operation {chain.name}</strong>
          <ul>{children(chain.id).map(node)}</ul>
        </li>
      </ul>
      <Dialog open={open !== null} onClose={() => setOpen(null)} title={open?.subject ?? ''}>
        <pre>{JSON.stringify(open?.data, null, 2)}</pre>
      </Dialog>
    </section>
  )
}

function Dialog(props: { open: boolean; onClose: () => void; title: string; children: ReactNode }) {
  const ref = useRef<HTMLDialogElement>(null)
  useEffect(() => {
    if (props.open && !ref.current?.open) ref.current?.showModal()
    if (!props.open && ref.current?.open) ref.current.close()
  }, [props.open])
  return (
    <dialog ref={ref} onClose={props.onClose} aria-label={props.title}>
      <h2>{props.title}</h2>
      {props.children}
      <form method="dialog">
        <button>Close</button>
      </form>
    </dialog>
  )
}

/** Publishers → subjects → consumer groups, drawn; then the figures per subject. */
function Subjects({ onSignedOut }: PageProps) {
  const { data, error } = useLoad(() => api.subjects(), [], onSignedOut, 10_000)
  if (error) return <p role="alert">{error}</p>
  const subjects: SubjectRow[] = data?.subjects ?? []
  const publishers = [...new Set(subjects.flatMap((s) => s.publishers))].sort()
  const consumers = [...new Set(subjects.flatMap((s) => s.consumers))].sort()
  const rowH = 28
  const height = Math.max(publishers.length, subjects.length, consumers.length, 1) * rowH + 20
  const y = (i: number) => 20 + i * rowH
  return (
    <section>
      <h1>Subjects</h1>
      <svg
        role="img"
        aria-label="Who publishes and who consumes each subject"
        width="900"
        height={height}
      >
        {subjects.map((s, si) => (
          <g key={s.subject}>
            {s.publishers.map((p) => (
              <line
                key={p}
                x1={220}
                y1={y(publishers.indexOf(p))}
                x2={340}
                y2={y(si)}
                className="edge"
              />
            ))}
            {s.consumers.map((c) => (
              <line
                key={c}
                x1={560}
                y1={y(si)}
                x2={680}
                y2={y(consumers.indexOf(c))}
                className="edge"
              />
            ))}
          </g>
        ))}
        {publishers.map((p, i) => (
          <text key={p} x={210} y={y(i) + 4} textAnchor="end">
            {p}
          </text>
        ))}
        {subjects.map((s, i) => (
          <text key={s.subject} x={350} y={y(i) + 4} className={s.dlqOpen > 0 ? 'bad' : undefined}>
            {s.subject}
          </text>
        ))}
        {consumers.map((c, i) => (
          <text key={c} x={690} y={y(i) + 4}>
            {c}
          </text>
        ))}
      </svg>
      <table>
        <thead>
          <tr>
            <th>Subject</th>
            <th>Published by</th>
            <th>Consumed by</th>
            <th>Last hour</th>
            <th>Last day</th>
            <th>Failure rate</th>
            <th>In the DLQ</th>
          </tr>
        </thead>
        <tbody>
          {subjects.map((s) => (
            <tr key={s.subject}>
              <td>{s.subject}</td>
              <td>{s.publishers.join(', ')}</td>
              <td>{s.consumers.join(', ') || '—'}</td>
              <td>{s.counts.lastHour}</td>
              <td>{s.counts.lastDay}</td>
              <td className={s.failureRate > 0 ? 'bad' : undefined}>
                {(s.failureRate * 100).toFixed(1)}%
              </td>
              <td className={s.dlqOpen > 0 ? 'bad' : undefined}>{s.dlqOpen}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  )
}

function Groups({ onSignedOut }: PageProps) {
  const { data, error } = useLoad(() => api.groups(), [], onSignedOut, 5_000)
  if (error) return <p role="alert">{error}</p>
  return (
    <section>
      <h1>Consumer groups</h1>
      <table>
        <thead>
          <tr>
            <th>Group</th>
            <th>Pending</th>
            <th>In flight</th>
            <th>Redelivered</th>
            <th>Last activity</th>
            <th>In the DLQ</th>
          </tr>
        </thead>
        <tbody>
          {data?.consumerGroups.map((g: GroupRow) => (
            <tr key={g.durable} className={g.stuck ? 'stuck' : undefined}>
              <td>
                {g.consumerGroup}
                {g.stuck && <strong className="bad"> stuck</strong>}
              </td>
              <td>{g.pending}</td>
              <td>{g.inFlight}</td>
              <td>{g.redelivered}</td>
              <td>{time(g.lastActive)}</td>
              <td className={g.dlqOpen > 0 ? 'bad' : undefined}>
                <a href={`#/dlq`}>{g.dlqOpen}</a>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  )
}

function Dlq({ onSignedOut }: PageProps) {
  const [status, setStatus] = useState('open')
  const [consumerGroup, setGroup] = useState('')
  const [eventId, setEventId] = useState('')
  const { data, error } = useLoad(
    () => api.dlq({ status, consumerGroup, eventId }),
    [status, consumerGroup, eventId],
    onSignedOut,
    5_000,
  )
  return (
    <section>
      <h1>Dead letter queue</h1>
      <label>
        Status{' '}
        <select value={status} onChange={(e) => setStatus(e.target.value)}>
          {['open', 'redriven', 'discarded', 'resolved', ''].map((s) => (
            <option key={s} value={s}>
              {s || 'any'}
            </option>
          ))}
        </select>
      </label>{' '}
      <label>
        Consumer group <input value={consumerGroup} onChange={(e) => setGroup(e.target.value)} />
      </label>{' '}
      <label>
        Event id <input value={eventId} onChange={(e) => setEventId(e.target.value)} />
      </label>
      {error && <p role="alert">{error}</p>}
      <table>
        <thead>
          <tr>
            <th>Consumer group</th>
            <th>Subject</th>
            <th>Reason</th>
            <th>Status</th>
            <th>Since</th>
          </tr>
        </thead>
        <tbody>
          {data?.entries.map((e: DlqEntry) => (
            <tr key={e._id}>
              <td>
                <a href={dlqEntryHref(e._id)}>{e.consumerGroup}</a>
                {!e.trusted && <UnsignedMarker />}
              </td>
              <td>{e.subject}</td>
              <td className="bad">{e.reason}</td>
              <td>{e.status}</td>
              <td>{time(e.createdAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  )
}

/** Beside the link, not in it: the link's name stays the consumer group. */
function UnsignedMarker() {
  return (
    <span className="tag bad" title="Not signed by the framework: it cannot be redriven">
      unsigned
    </span>
  )
}

/** The body as text when it is UTF-8 (JSON indented); otherwise its exact bytes in base64. */
function Payload({ entry }: { entry: DlqEntry }) {
  if (entry.payload !== null) return <pre data-testid="dlq-payload">{pretty(entry.payload)}</pre>
  return (
    <>
      <p className="bad">The payload is not UTF-8: its bytes, in base64.</p>
      <pre data-testid="dlq-payload-base64">{entry.payloadBase64}</pre>
    </>
  )
}

/** The header lines as received, in order (a name may repeat). */
function HeaderRows({ headers }: { headers: DlqEntry['headers'] }) {
  if (headers.length === 0) return <p className="muted">The message had no headers.</p>
  return (
    <table aria-label="Headers">
      <thead>
        <tr>
          <th>Name</th>
          <th>Value</th>
        </tr>
      </thead>
      <tbody>
        {headers.map((h, i) => (
          <tr key={i}>
            <td>
              <code>{h.name}</code>
            </td>
            <td className="value">{h.value}</td>
          </tr>
        ))}
      </tbody>
    </table>
  )
}

const actionText = (a: NonNullable<DlqCycle['action']>) =>
  `${a.action} by ${a.by} at ${time(a.at)}${a.reason ? `: ${a.reason}` : ''}`

/** Every failure cycle of this event in this consumer group, oldest first. */
function Cycles({ cycles, current }: { cycles: DlqCycle[]; current: string }) {
  return (
    <table aria-label="Failure cycles">
      <thead>
        <tr>
          <th>Cycle</th>
          <th>Since</th>
          <th>Status</th>
          <th>Closed by</th>
        </tr>
      </thead>
      <tbody>
        {cycles.map((c, i) => (
          <tr key={c.id} className={c.id === current ? 'current' : undefined}>
            <td>
              <a
                href={dlqEntryHref(c.id)}
                aria-current={c.id === current ? 'page' : undefined}
              >{`cycle ${i + 1}`}</a>
              {c.id === current && <span className="muted"> (this entry)</span>}
            </td>
            <td>{time(c.createdAt)}</td>
            <td>{c.status}</td>
            <td>{c.action ? actionText(c.action) : '—'}</td>
          </tr>
        ))}
      </tbody>
    </table>
  )
}

/** Why an entry the framework did not sign has no Redrive: it never reaches a handler. */
function UnsignedNotice() {
  return (
    <p role="note" className="warning" data-testid="dlq-unsigned">
      This message was not signed by the framework: it did not come from a service, so it cannot be
      redriven. Discard it, or publish the event through a service.
    </p>
  )
}

/** Why a read-only key sees no actions. */
function ReadOnlyNotice() {
  return (
    <p role="note" className="muted" data-testid="dlq-read-only">
      You signed in with a read-only key: redrive, discard and resolve need a key with the operate
      role.
    </p>
  )
}

function DlqEntryPage({
  id,
  onSignedOut,
  readOnly,
}: PageProps & { id: string; readOnly: boolean }) {
  const { data, error, reload } = useLoad(() => api.dlqEntry(id), [id], onSignedOut)
  const [confirm, setConfirm] = useState<DlqActionName | null>(null)
  const [text, setText] = useState('')
  const [result, setResult] = useState<string | null>(null)
  if (error) return <p role="alert">{error}</p>
  if (!data) return <p className="muted">Loading…</p>
  const entry: DlqEntryDetail = data
  const act = (action: DlqActionName) =>
    api
      .dlqAct(entry._id, action, text || undefined)
      .then(
        (r) => setResult(`${action}: the entry is ${r.entry.status}`),
        (e: unknown) => setResult((e as Error).message),
      )
      .finally(() => {
        setConfirm(null)
        reload()
      })
  return (
    <section>
      <h1>
        {entry.consumerGroup} <span className="muted">{entry.subject}</span>
        {!entry.trusted && <UnsignedMarker />}
      </h1>
      <p>
        Status: <strong data-testid="dlq-status">{entry.status}</strong> · event {entry.eventId}
        {entry.operationId && (
          <>
            {' '}
            · <a href={`#/operations/${encodeURIComponent(entry.operationId)}`}>its operation</a>
          </>
        )}
      </p>
      {entry.redriveOf && (
        <p>
          A redrive of <a href={dlqEntryHref(entry.redriveOf)}>the earlier entry</a> that failed
          again.
        </p>
      )}
      {!entry.trusted && <UnsignedNotice />}
      <p className="bad">{entry.reason}</p>
      {entry.status === 'open' && readOnly && <ReadOnlyNotice />}
      {entry.status === 'open' && !readOnly && (
        <p>
          {entry.trusted && (
            <>
              <button onClick={() => setConfirm('redrive')}>Redrive</button>{' '}
            </>
          )}
          <button onClick={() => setConfirm('discard')}>Discard</button>{' '}
          <button onClick={() => setConfirm('resolve')}>Resolve</button>
        </p>
      )}
      {result && <p role="status">{result}</p>}
      <h2>Payload</h2>
      <Payload entry={entry} />
      <h2>Headers</h2>
      <HeaderRows headers={entry.headers} />
      <h2>Attempts</h2>
      <ol>
        {entry.attempts.map((a) => (
          <li key={a.attempt} className="bad">
            {time(a.at)}: {a.message}
          </li>
        ))}
      </ol>
      {entry.history && entry.history.length > 0 && (
        <>
          <h2>History</h2>
          <ul>
            {entry.history.map((h, i) => (
              <li key={i}>{actionText(h)}</li>
            ))}
          </ul>
        </>
      )}
      <h2>Failure cycles</h2>
      <p className="muted">Every time this event failed in {entry.consumerGroup}, oldest first.</p>
      <Cycles cycles={entry.cycles} current={entry._id} />
      <Dialog
        open={confirm !== null}
        onClose={() => setConfirm(null)}
        title={`${confirm ?? ''} this entry?`}
      >
        <p>
          {confirm === 'redrive' && `Deliver the event again to ${entry.consumerGroup} only.`}
          {confirm === 'discard' && 'Close it without delivering it again. Say why:'}
          {confirm === 'resolve' && 'Mark it fixed by hand. A note (optional):'}
        </p>
        {confirm !== 'redrive' && (
          <input
            aria-label="reason or note"
            value={text}
            onChange={(e) => setText(e.target.value)}
          />
        )}
        <button onClick={() => confirm && void act(confirm)}>Yes, {confirm}</button>
      </Dialog>
    </section>
  )
}
