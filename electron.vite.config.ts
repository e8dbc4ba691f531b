import { resolve } from 'node:path';
import { defineConfig } from 'electron-vite';

// Three builds: main (Node, ESM; native modules stay external; the engine worker as a second entry), preload (sandboxed, so one
// CommonJS file with nothing but `electron` required), renderer (web).
export default defineConfig({
  main: {
    build: {
      outDir: 'out/main',
      // The engine worker is its own entry: src/main/engine/host.ts starts out/main/engineWorker.js in a worker thread.
      rollupOptions: { input: { index: resolve(__dirname, 'src/main/index.ts'), engineWorker: resolve(__dirname, 'src/main/engine/worker.ts') } },
    },
  },
  preload: {
    build: {
      outDir: 'out/preload',
      externalizeDeps: false,
      rollupOptions: {
        input: { index: resolve(__dirname, 'src/preload/index.ts') },
        external: ['electron'],
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: resolve(__dirname, 'src/renderer'),
    build: {
      outDir: 'out/renderer',
      rollupOptions: { input: { index: resolve(__dirname, 'src/renderer/index.html') } },
    },
  },
});
