import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 400, reportCompressedSize: false },
  server: { proxy: { '/api': 'http://127.0.0.1:8080', '/kube': 'http://127.0.0.1:8080' } },
});
