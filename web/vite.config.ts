import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  base: './',
  build: {
    outDir: fileURLToPath(new URL('../dist/wizard-ui', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
  },
  // JSX without @vitejs/plugin-react: the automatic runtime, never the dev transform (vitest sets NODE_ENV=test).
  oxc: { jsx: { runtime: 'automatic', development: false } },
});
