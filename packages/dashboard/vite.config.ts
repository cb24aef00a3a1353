import react from '@vitejs/plugin-react'
import { defineConfig } from 'vite'

// The dashboard's front end, bundled into dist/ (no CDN at run time); served by the admin server.
export default defineConfig({
  root: 'src/ui',
  base: '/',
  plugins: [react()],
  build: { outDir: '../../dist', emptyOutDir: true },
})
