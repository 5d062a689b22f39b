import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { QueryClientProvider } from '@tanstack/react-query'
import { BrowserRouter } from 'react-router'
import { captureTokenFromFragment } from './api/auth'
import { queryClient } from './api/queryClient'
import { App } from './App'
import { applyInitialTheme } from './lib/theme'
import './styles.css'

// Before anything talks to the server: take the token out of the URL fragment.
captureTokenFromFragment()
applyInitialTheme()

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <BrowserRouter>
        <App />
      </BrowserRouter>
    </QueryClientProvider>
  </StrictMode>,
)

// Fetch the Markdown renderer while the user types, so the first reply renders formatted.
setTimeout(() => void import('./chat/Markdown'), 0)
