import { defaultClientConditions, defineConfig } from 'vite'

export default defineConfig({
  // Workspace packages resolve from their TypeScript sources: no build step before the demo.
  resolve: { conditions: ['sluice-source', ...defaultClientConditions] },
  server: { host: '127.0.0.1' },
})
