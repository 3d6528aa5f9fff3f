import { join } from 'node:path';
import react from '@vitejs/plugin-react';
import { buildSync } from 'esbuild';
import { defineConfig, type Plugin } from 'vite';

const PAGES = {
  apps: 'pages/apps.tsx',
  envs: 'pages/environments.tsx',
  pipelines: 'pages/pipelines.tsx',
  registry: 'pages/registry.tsx',
  cluster: 'pages/cluster.tsx',
  users: 'pages/users.tsx',
};

type Chunk = {
  type: 'chunk';
  fileName: string;
  isEntry: boolean;
  facadeModuleId: string | null;
  imports: string[];
};

/**
 * Inlines src/boot.ts into index.html as a classic script that runs while the HTML is parsed: it starts the
 * route's API reads and adds `modulepreload` links for the route's chunks (the map is taken from the bundle,
 * so the hashed names are always right). Without it, both would wait for the shell script to download and
 * run. (Vite itself adds modulepreload links for the shell's static imports.)
 */
function bootScript(): Plugin {
  return {
    name: 'slipway-boot-script',
    apply: 'build',
    transformIndexHtml: {
      order: 'post',
      handler(html, ctx) {
        const chunks = Object.values(ctx.bundle ?? {}).filter((c): c is Chunk & typeof c => c.type === 'chunk');
        const byFile = new Map(chunks.map((c) => [c.fileName, c]));
        const entry = chunks.find((c) => c.isEntry);
        if (!entry) throw new Error('slipway-boot-script: no entry chunk');
        // What the shell loads anyway: the entry and its static imports, transitively.
        const shell = new Set<string>();
        const walk = (file: string, into: Set<string>) => {
          if (into.has(file)) return;
          into.add(file);
          for (const dep of byFile.get(file)?.imports ?? []) walk(dep, into);
        };
        walk(entry.fileName, shell);
        const routeChunks: Record<string, string[]> = {};
        for (const [page, source] of Object.entries(PAGES)) {
          const chunk = chunks.find((c) => c.facadeModuleId?.endsWith(`/src/${source}`));
          if (!chunk) throw new Error(`slipway-boot-script: no chunk for ${source}`);
          const files = new Set<string>();
          walk(chunk.fileName, files);
          routeChunks[page] = [...files].filter((f) => !shell.has(f)).map((f) => `/${f}`);
        }
        const { outputFiles } = buildSync({
          entryPoints: [join(import.meta.dirname, 'src', 'boot.ts')],
          bundle: true,
          minify: true,
          format: 'iife',
          target: 'es2020',
          write: false,
          define: { __ROUTE_CHUNKS__: JSON.stringify(routeChunks) },
        });
        const boot = outputFiles[0]!.text.trim();
        // Right after the charset and viewport, so the reads start before the parser reaches anything else.
        return html.replace(
          '<title>',
          `<script>${boot}</script>\n    <title>`,
        );
      },
    },
  };
}

export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  plugins: [react(), bootScript()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 400,
    reportCompressedSize: false,
    // Vite adds modulepreload links for the entry's imports (every browser Slipway supports has them);
    // boot.ts adds them for the route's chunks.
    modulePreload: { polyfill: false },
    rolldownOptions: {
      // The build is quick enough; no report of which plugin took how long.
      checks: { bundlerTimings: false },
      output: {
        // V8's explicit compile hint (Chrome 136+; a comment to other browsers): most of React runs during
        // the first render, so V8 compiles it eagerly, off the main thread while it streams in, instead of
        // function by function on the main thread when first called. After minification, so it stays.
        postBanner: (chunk) =>
          process.env.SLIPWAY_COMPILE_HINTS !== '0' && chunk.name === 'react' ? '//# allFunctionsCalledOnLoad' : '',
        // React in its own chunk: it changes only on upgrades, so browsers keep it across Slipway releases.
        codeSplitting: {
          groups: [
            { name: 'react', test: /node_modules[\\/](react|react-dom|scheduler)[\\/]/ },
            // Small modules most pages share: one chunk instead of one request each.
            { name: 'common', test: /web[\\/]src[\\/](components[\\/]badge\.tsx|app-status\.ts)$/ },
          ],
        },
      },
    },
  },
  server: { proxy: { '/api': 'http://127.0.0.1:8080', '/kube': 'http://127.0.0.1:8080' } },
});
