import { useEffect, useRef, useState } from 'react'
import { useProfile, useSaveProfile } from '../api/queries'
import { ApiError, errorMessage } from '../api/errors'
import { Notice, Spinner } from '../lib/ui'

// Close to what the server accepts; the server has the last word (422).
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/

export function validateProfile(name: string, email: string): { display_name?: string; email?: string } {
  const errors: { display_name?: string; email?: string } = {}
  if (name.length > 100) errors.display_name = 'At most 100 characters.'
  if (email && !EMAIL.test(email)) errors.email = 'Enter an email address like name@example.com.'
  return errors
}

export function ProfilePage() {
  const query = useProfile()
  const saveProfile = useSaveProfile()
  const loaded = !!query.data
  const loadError = query.error ? errorMessage(query.error) : null
  const [name, setName] = useState('')
  const [email, setEmail] = useState('')
  const [touched, setTouched] = useState(false)
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null)
  const [serverErrors, setServerErrors] = useState<{ display_name?: string; email?: string }>({})

  // The form starts from the stored profile once it is in.
  const filled = useRef(false)
  useEffect(() => {
    if (!query.data || filled.current) return
    filled.current = true
    setName(query.data.display_name ?? '')
    setEmail(query.data.email ?? '')
  }, [query.data])

  const errors = { ...validateProfile(name, email), ...serverErrors }
  const invalid = Object.keys(validateProfile(name, email)).length > 0

  const save = async () => {
    setTouched(true)
    setResult(null)
    setServerErrors({})
    if (invalid) return
    try {
      const p = await saveProfile.mutateAsync({ display_name: name.trim(), email: email.trim() })
      setName(p.display_name)
      setEmail(p.email)
      setResult({ ok: true, text: 'Profile saved.' })
    } catch (err) {
      if (err instanceof ApiError && err.status === 422) {
        setServerErrors(err.param === 'display_name' ? { display_name: err.message } : { email: err.message })
      } else setResult({ ok: false, text: errorMessage(err) })
    }
  }

  if (loadError) return <div className="page"><Notice kind="error" title="Could not load the profile.">{loadError}</Notice></div>
  if (!loaded) return <div className="page"><Spinner /></div>
  return (
    <div className="page narrow">
      <h1>Profile</h1>
      <p className="muted">Your name and email, kept on this connector only.</p>
      <form
        className="card form"
        noValidate
        onSubmit={(e) => {
          e.preventDefault()
          void save()
        }}
      >
        <div className="field">
          <label htmlFor="display-name">Display name</label>
          <input
            id="display-name"
            value={name}
            maxLength={200}
            autoComplete="name"
            aria-invalid={!!(touched && errors.display_name)}
            onChange={(e) => setName(e.target.value)}
          />
          {touched && errors.display_name ? <div className="field-error">{errors.display_name}</div> : null}
        </div>
        <div className="field">
          <label htmlFor="email">Email</label>
          <input
            id="email"
            type="email"
            value={email}
            autoComplete="email"
            aria-invalid={!!((touched || serverErrors.email) && errors.email)}
            onChange={(e) => {
              setEmail(e.target.value)
              setServerErrors({})
            }}
            onBlur={() => setTouched(true)}
          />
          {(touched || serverErrors.email) && errors.email ? <div className="field-error">{errors.email}</div> : null}
        </div>
        <div className="row">
          <button type="submit" className="btn btn-primary" disabled={saveProfile.isPending}>
            {saveProfile.isPending ? 'Saving…' : 'Save profile'}
          </button>
          {result ? <span className={result.ok ? 'ok-text' : 'error-text'} role="status">{result.text}</span> : null}
        </div>
      </form>
    </div>
  )
}
