/// <reference types="vitest/config" />
import { defineConfig } from 'vite'

// JSX goes through esbuild's automatic runtime; no React plugin is needed for a
// production build and it keeps the toolchain small.
export default defineConfig({
  base: '/',
  esbuild: { jsx: 'automatic' },
  build: {
    outDir: '../connector/static',
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 600,
  },
  server: {
    // `npm run dev` talks to a connector running on the default port.
    proxy: {
      '^/(chat|v1|models|providers|settings|profile|usage|conversations|healthz|openapi.json)': 'http://127.0.0.1:8000',
      '/ws': { target: 'ws://127.0.0.1:8000', ws: true },
    },
  },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.{ts,tsx}'],
  },
})
