// Build the console into the Python package (baas/api/console/), where `baas serve` finds it.
//
// Everything the build emits is an external file served from the server's own origin, so the
// console runs under the API's Content-Security-Policy (script-src 'self'; style-src 'self')
// with no 'unsafe-inline':
// - Svelte's component styles are extracted into .css files (the plugin's default for builds);
// - no module-preload polyfill (it would be code in the entry chunk that fetches and is not
//   needed by the Chromium, Firefox and Safari versions that support ES modules natively);
// - assets are never inlined as data: URLs in scripts (assetsInlineLimit 0).
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  plugins: [svelte()],
  base: '/',
  build: {
    outDir: '../baas/api/console',
    emptyOutDir: true,
    target: 'es2022',
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    cssCodeSplit: true,
    reportCompressedSize: true,
    chunkSizeWarningLimit: 700,
  },
  server: {
    // `npm run dev` against a `baas serve` on the default port.
    proxy: { '/api': 'http://127.0.0.1:8000' },
  },
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
});
