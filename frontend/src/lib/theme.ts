// Theme: follows prefers-color-scheme until the user picks one; the pick is
// remembered in localStorage and applied as <html data-theme>.
import { useEffect, useState } from 'react'

export type ThemeChoice = 'system' | 'light' | 'dark'
const KEY = 'connector.theme'

function stored(): ThemeChoice {
  try {
    const v = localStorage.getItem(KEY)
    return v === 'light' || v === 'dark' ? v : 'system'
  } catch {
    return 'system'
  }
}

function systemDark(): boolean {
  return typeof window.matchMedia === 'function' && window.matchMedia('(prefers-color-scheme: dark)').matches
}

/** Sets <html data-theme> before the first render, so a dark system never flashes light. */
export function applyInitialTheme(): void {
  const choice = stored()
  document.documentElement.dataset.theme = choice === 'system' ? (systemDark() ? 'dark' : 'light') : choice
}

export function useTheme(): { choice: ThemeChoice; effective: 'light' | 'dark'; toggle: () => void } {
  const [choice, setChoice] = useState<ThemeChoice>(stored)
  const [dark, setDark] = useState(systemDark)
  useEffect(() => {
    if (typeof window.matchMedia !== 'function') return
    const mq = window.matchMedia('(prefers-color-scheme: dark)')
    const on = () => setDark(mq.matches)
    mq.addEventListener('change', on)
    return () => mq.removeEventListener('change', on)
  }, [])
  const effective = choice === 'system' ? (dark ? 'dark' : 'light') : choice
  useEffect(() => {
    document.documentElement.dataset.theme = effective
  }, [effective])
  const toggle = () => {
    // Flip the visible theme; picking the one the system already has means "follow the system".
    const next = effective === 'dark' ? 'light' : 'dark'
    const value: ThemeChoice = (next === 'dark') === dark ? 'system' : next
    try {
      if (value === 'system') localStorage.removeItem(KEY)
      else localStorage.setItem(KEY, value)
    } catch {
      // Not remembered; fine for this page.
    }
    setChoice(value)
  }
  return { choice, effective, toggle }
}
