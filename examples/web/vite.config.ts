/**
 * `npm run example:web`: serves the example page. The page calls `/graphql` on its own origin and
 * this server passes those requests on to the gateway at GATEWAY_URL, so the browser never makes
 * a cross-origin request and the gateway needs no CORS_ORIGINS entry for it.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig, type ProxyOptions } from 'vite';

const here = fileURLToPath(new URL('.', import.meta.url));
const gateway: Record<string, ProxyOptions> = {
  '/graphql': { target: process.env.GATEWAY_URL || 'http://127.0.0.1:4000' },
};

export default defineConfig({
  root: here,
  cacheDir: fileURLToPath(new URL('../../node_modules/.vite/examples-web', import.meta.url)),
  resolve: { alias: { '@generated': fileURLToPath(new URL('../generated', import.meta.url)) } },
  server: { host: '127.0.0.1', port: 5173, proxy: gateway },
  preview: { host: '127.0.0.1', port: 4173, proxy: gateway },
  clearScreen: false,
});
