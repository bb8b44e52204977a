// The dashboard's build: served by the gateway under /ui (apps/gateway/src/ui), bundled into dist/ui with hashed
// names, nothing loaded from a CDN. `scripts/build-ui.sh` runs it when the sources changed.
import { fileURLToPath } from 'node:url';
import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/ui/',
  plugins: [preact()],
  build: {
    outDir: fileURLToPath(new URL('../../../dist/ui', import.meta.url)),
    emptyOutDir: true,
    chunkSizeWarningLimit: 1_500,
    sourcemap: false,
  },
});
