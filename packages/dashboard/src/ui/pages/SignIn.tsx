import { useState } from 'react'
import { api, Unauthorized, type Who } from '../api.ts'

export function SignIn({ onSignedIn }: { onSignedIn: (who: Who) => void }) {
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
