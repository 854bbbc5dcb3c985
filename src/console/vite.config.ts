import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/**
 * Builds the operator console into `dist/console/`, served by chargegate at `/console`. The
 * page's Content-Security-Policy allows no inline script or style, so nothing may be inlined:
 * no module-preload polyfill and no assets turned into data: URLs.
 */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/console/',
  publicDir: false,
  logLevel: 'warn',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: fileURLToPath(new URL('../../dist/console', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    reportCompressedSize: false,
  },
});
