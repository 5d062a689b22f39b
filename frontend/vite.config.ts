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
    rollupOptions: {
      // React Query and React Router mark their modules "use client" (for React Server
      // Components); a client-only bundle has nothing to do with it.
      onwarn(warning, warn) {
        if (warning.code === 'MODULE_LEVEL_DIRECTIVE') return
        warn(warning)
      },
    },
  },
  server: {
    // `npm run dev` talks to a connector running on the default port.
    proxy: {
      '^/(chat|v1|api|models|providers|settings|profile|usage|conversations|keys|budgets|requests|endpoints|metrics|healthz|openapi.json)':
        'http://127.0.0.1:8000',
      '/ws': { target: 'ws://127.0.0.1:8000', ws: true },
    },
  },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.{ts,tsx}'],
  },
})
