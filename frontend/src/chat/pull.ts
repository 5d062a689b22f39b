// Ollama pull progress, folded from the SSE lines of POST /models/pull.
import type { PullProgress } from '../api/types'

export interface Layer {
  digest: string
  total: number
  completed: number
}

export interface PullState {
  status: string
  layers: Layer[]
  done: boolean
  error: string | null
}

export const initialPull: PullState = { status: 'starting', layers: [], done: false, error: null }

export function applyPull(state: PullState, p: PullProgress): PullState {
  if (p.error) {
    const message = typeof p.error === 'string' ? p.error : p.error.message
    return { ...state, error: message, status: 'error' }
  }
  let layers = state.layers
  if (p.digest && typeof p.total === 'number') {
    const layer = { digest: p.digest, total: p.total, completed: p.completed ?? 0 }
    const i = layers.findIndex((l) => l.digest === p.digest)
    layers = i < 0 ? [...layers, layer] : layers.map((l, j) => (j === i ? layer : l))
  }
  return { ...state, layers, status: p.status ?? state.status, done: p.status === 'success' }
}

export function overall(state: PullState): { completed: number; total: number } {
  return state.layers.reduce((acc, l) => ({ completed: acc.completed + l.completed, total: acc.total + l.total }), {
    completed: 0,
    total: 0,
  })
}
