import { useQueryClient } from '@tanstack/react-query'
import { useCallback, useEffect, useState } from 'react'
import { api, Unauthorized, type Who } from './api.ts'
import { NowProvider } from './components/Now.tsx'
import { HeaderSearch } from './components/HeaderSearch.tsx'
import { Dlq } from './pages/Dlq.tsx'
import { DlqEntryPage } from './pages/DlqEntryPage.tsx'
import { Groups } from './pages/Groups.tsx'
import { OperationPage } from './pages/OperationPage.tsx'
import { Operations } from './pages/Operations.tsx'
import { SignIn } from './pages/SignIn.tsx'
import { Subjects } from './pages/Subjects.tsx'
import { useRoute } from './route.ts'

/** The session, the header and the page the hash names; each page is a file of pages/. */
export function App() {
  const [who, setWho] = useState<Who | null | undefined>(undefined)
  const [signOutError, setSignOutError] = useState<string | null>(null)
  const route = useRoute()
  const queryClient = useQueryClient()
  useEffect(() => {
    api.session().then(
      (s) => setWho(s),
      () => setWho(null),
    )
  }, [])
  // Signed out, nothing read with that session stays cached for the next one.
  const signedOut = useCallback(() => {
    queryClient.clear()
    setWho(null)
  }, [queryClient])
  if (who === undefined) return <p className="muted">Loading…</p>
  if (who === null) return <SignIn onSignedIn={setWho} />
  const page = route[0] || 'operations'
  const id = route[1]
  return (
    <NowProvider>
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
        <HeaderSearch />
        <span className="muted">
          {who.name}
          {who.role === 'read' && ' (read-only)'}
        </span>
        <button
          onClick={() => {
            // Signed out only once the server recorded it: otherwise the cookie still works.
            api
              .signOut()
              .then(signedOut, (e: unknown) =>
                e instanceof Unauthorized ? signedOut() : setSignOutError((e as Error).message),
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
        {page === 'subjects' && <Subjects id={id} onSignedOut={signedOut} />}
        {page === 'groups' && <Groups onSignedOut={signedOut} />}
        {page === 'dlq' && !id && <Dlq onSignedOut={signedOut} readOnly={who.role === 'read'} />}
        {page === 'dlq' && id && (
          <DlqEntryPage key={id} id={id} onSignedOut={signedOut} readOnly={who.role === 'read'} />
        )}
      </main>
    </NowProvider>
  )
}
