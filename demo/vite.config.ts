import { defaultClientConditions, defineConfig } from 'vite'

export default defineConfig({
  // Workspace packages resolve from their TypeScript sources: no build step before the demo.
  resolve: { conditions: ['sluice-source', ...defaultClientConditions] },
  server: { host: '127.0.0.1' },
  // Every page's imports are found at start-up: a dependency found later (React, first imported by
  // react.html) would be optimised mid-session, invalidating the modules open tabs already loaded.
  optimizeDeps: { entries: ['index.html', 'lab.html', 'react.html', 'query.html'] },
})
