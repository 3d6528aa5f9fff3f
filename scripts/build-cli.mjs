// Bundles the `slipway` CLI (src/cli/main.ts and everything it imports from src/) into dist/cli/ with esbuild,
// so a start does not compile TypeScript. Run by `npm ci` (postinstall) and `npm run build:cli`.
// - npm packages stay external (loaded from node_modules) except a few small pure-JS ones the start needs.
// - Commands that main.ts imports lazily become chunks of their own: `slipway template` never loads the
//   server's dependencies.
// - Paths that source files build from import.meta (data files, web/dist, package.json) keep pointing into
//   the source tree: each `import.meta.url`/`dirname`/`filename` of a file under src/ is rewritten to that
//   file's original location, resolved against the bundle's own location at run time.
// bin/slipway.cjs runs the bundle only while it is newer than every source file listed in inputs.json.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

const root = join(import.meta.dirname, '..');
// --outdir DIR builds elsewhere (the bundle test builds into a temporary directory).
const outArg = process.argv.indexOf('--outdir');
const outdir = outArg > 0 ? resolve(process.argv[outArg + 1]) : join(root, 'dist', 'cli');

let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  console.warn('slipway: esbuild not installed; the CLI runs from source through tsx');
  process.exit(0);
}

const toPosix = (p) => p.split(sep).join('/');

/**
 * Rewrites import.meta in files under src/ to their source location (helpers defined in the banner).
 * `inlineOnFirstUse`: packages that sources load on first use with `createRequire(import.meta.url)('name')`
 * (ajv, picomatch: most runs never need them) and that this bundle should carry instead: the call becomes a
 * plain `require('name')`, which esbuild bundles as a module that initialises on that first call.
 */
const sourceLocation = ({ inlineOnFirstUse = [] } = {}) => ({
  name: 'slipway-source-location',
  setup(build) {
    const seen = new Set();
    build.onEnd((result) => {
      const missing = inlineOnFirstUse.filter((name) => !seen.has(name));
      if (missing.length > 0 && result.errors.length === 0) {
        result.errors.push({
          text: `no createRequire(import.meta.url)(...) of ${missing.join(', ')} left to inline`,
        });
      }
    });
    // Source modules have no import-time side effects that matter: a module none of whose exports a chunk
    // uses stays out of it (so the CLI's start does not load the logger's pino through core/index.ts).
    build.onResolve({ filter: /^\.\.?\/.*\.ts$/ }, (args) => {
      const path = resolve(args.resolveDir, args.path);
      if (!toPosix(relative(root, path)).startsWith('src/') || !existsSync(path)) return undefined;
      return { path, sideEffects: false };
    });
    build.onLoad({ filter: /\.ts$/ }, (args) => {
      const rel = toPosix(relative(root, args.path));
      if (rel.startsWith('..') || rel.startsWith('node_modules/')) return undefined;
      let text = readFileSync(args.path, 'utf8');
      for (const name of inlineOnFirstUse) {
        const call = `createRequire(import.meta.url)('${name}')`;
        if (!text.includes(call)) continue;
        seen.add(name);
        text = text.replaceAll(call, `require('${name}')`);
      }
      if (text.includes('import.meta')) {
        const file = JSON.stringify(rel);
        const dir = JSON.stringify(toPosix(dirname(rel)));
        text = text
          .replaceAll('import.meta.url', `__slipwaySourceUrl(${file})`)
          .replaceAll('import.meta.dirname', `__slipwaySourcePath(${dir})`)
          .replaceAll('import.meta.filename', `__slipwaySourcePath(${file})`);
      }
      return { contents: text, loader: 'ts' };
    });
  },
});

/**
 * npm packages that source modules import statically but use only inside functions: the bundle loads them on
 * first call instead of at start (pino through core/index.ts would otherwise load with every command).
 * Package name -> the named function exports that stand in for the real ones.
 */
const LAZY_PACKAGES = { pino: ['pino'] };

const lazyPackages = {
  name: 'slipway-lazy-packages',
  setup(build) {
    const filter = new RegExp(`^(${Object.keys(LAZY_PACKAGES).join('|')})$`);
    build.onResolve({ filter }, (args) => ({
      path: args.path,
      namespace: 'slipway-lazy',
      pluginData: { importer: toPosix(relative(root, args.importer)) },
    }));
    build.onLoad({ filter: /.*/, namespace: 'slipway-lazy' }, (args) => {
      const from = JSON.stringify(args.pluginData.importer);
      const pkg = JSON.stringify(args.path);
      const lines = [
        "import { createRequire } from 'node:module';",
        'let loaded;',
        `const load = () => (loaded ??= createRequire(__slipwaySourceUrl(${from}))(${pkg}));`,
        ...LAZY_PACKAGES[args.path].map(
          (name) => `export function ${name}(...args) { return load().${name}(...args); }`,
        ),
      ];
      return { contents: lines.join('\n'), loader: 'js', resolveDir: root };
    });
  },
};

/**
 * Pure-JS packages bundled in: the CLI's start needs them, and loading them from node_modules costs a module
 * resolution per file (yaml has ~80). Every other package stays external and loads from node_modules.
 */
const BUNDLED_PACKAGES = new Set(['yaml', 'js-yaml', 'commander']);

const externalPackages = (bundled = BUNDLED_PACKAGES) => ({
  name: 'slipway-external-packages',
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.namespace === 'slipway-lazy') return undefined;
      const name = args.path.startsWith('@')
        ? args.path.split('/').slice(0, 2).join('/')
        : args.path.split('/')[0];
      // What a bundled package imports is bundled with it.
      if (bundled.has(name) || args.importer.includes('/node_modules/')) return undefined;
      return { path: args.path, external: true };
    });
  },
});

// `require` serves the bundled CommonJS packages' requires of Node built-ins (ESM output has none; no source
// module may declare a top-level `require`).
const banner = [
  "import { createRequire as __slipwayCreateRequire } from 'node:module';",
  "import { fileURLToPath as __slipwayFileURLToPath } from 'node:url';",
  'const require = __slipwayCreateRequire(import.meta.url);',
  `const __slipwayRoot = new URL(${JSON.stringify(`${toPosix(relative(outdir, root))}/`)}, import.meta.url);`,
  'const __slipwaySourceUrl = (p) => new URL(p, __slipwayRoot).href;',
  'const __slipwaySourcePath = (p) => __slipwayFileURLToPath(new URL(p, __slipwayRoot));',
].join('\n');

rmSync(outdir, { recursive: true, force: true });
const started = Date.now();
const result = await esbuild.build({
  absWorkingDir: root,
  entryPoints: { main: 'src/cli/main.ts' },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outExtension: { '.js': '.mjs' },
  chunkNames: 'chunk-[hash]',
  banner: { js: banner },
  sourcemap: 'linked',
  metafile: true,
  logLevel: 'warning',
  plugins: [sourceLocation(), lazyPackages, externalPackages()],
});
const sourceInputs = (meta) =>
  Object.keys(meta.inputs)
    .filter((p) => p.startsWith('src/'))
    .sort();

/**
 * The fast path of `slipway template` (bin/slipway.cjs): src/cli/template-fast.ts and what it imports, as ONE
 * CommonJS file (no commander, no other command), so a start resolves no modules and bin/slipway.cjs can
 * compile it through vm.Script with a V8 code cache. Arguments it does not handle go to main.mjs.
 */
/**
 * Node built-ins that cost a start milliseconds to load (crypto ~15 ms, child_process with net and streams
 * ~25, zlib, fs/promises) but that a template run needs only for some charts, or never (commander requires
 * child_process for executable sub-commands): in the template bundle each becomes a module of forwarders that
 * loads the real one on first call. Only functions are forwarded (classes too: `new` constructs the real
 * one); importing anything else from them fails the build.
 */
const LAZY_BUILTINS = ['crypto', 'child_process', 'zlib', 'fs/promises'];

/**
 * Packages a template run loads only for some charts (ajv: a values.schema.json; picomatch: .Files.Glob), carried
 * in the template bundle so that run compiles them from the bundle (and the code cache) instead of resolving
 * and compiling ~60 files from node_modules (~35 ms for ajv).
 */
const TEMPLATE_FIRST_USE_PACKAGES = ['ajv', 'picomatch'];

const lazyBuiltins = {
  name: 'slipway-lazy-builtins',
  setup(build) {
    const filter = new RegExp(`^(node:)?(${LAZY_BUILTINS.join('|')})$`);
    build.onResolve({ filter }, (args) => {
      if (args.namespace === 'slipway-lazy-builtin') return { path: args.path, external: true };
      return { path: args.path.replace(/^node:/, ''), namespace: 'slipway-lazy-builtin' };
    });
    build.onLoad({ filter: /.*/, namespace: 'slipway-lazy-builtin' }, async (args) => {
      const real = await import(`node:${args.path}`);
      const names = Object.keys(real).filter((n) => n !== 'default' && typeof real[n] === 'function');
      const lines = [
        'let loaded;',
        `const load = () => (loaded ??= require(${JSON.stringify(`node:${args.path}`)}));`,
        ...names.map(
          (n) =>
            `export function ${n}(...args) { const f = load().${n}; return new.target ? Reflect.construct(f, args) : f.apply(this, args); }`,
        ),
      ];
      return { contents: lines.join('\n'), loader: 'js', resolveDir: root };
    });
  },
};
const cjsBanner = [
  `const __slipwayRoot = require('node:url').pathToFileURL(require('node:path').join(__dirname, ${JSON.stringify(`${toPosix(relative(outdir, root))}/`)}));`,
  'const __slipwaySourceUrl = (p) => new URL(p, __slipwayRoot).href;',
  "const __slipwaySourcePath = (p) => require('node:url').fileURLToPath(new URL(p, __slipwayRoot));",
].join('\n');
const template = await esbuild.build({
  absWorkingDir: root,
  entryPoints: { template: 'src/cli/template-fast.ts' },
  outdir,
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  outExtension: { '.js': '.cjs' },
  minifyWhitespace: true,
  minifySyntax: true,
  banner: { js: cjsBanner },
  metafile: true,
  logLevel: 'warning',
  plugins: [
    lazyBuiltins,
    sourceLocation({ inlineOnFirstUse: TEMPLATE_FIRST_USE_PACKAGES }),
    lazyPackages,
    externalPackages(new Set([...BUNDLED_PACKAGES, ...TEMPLATE_FIRST_USE_PACKAGES])),
  ],
});

// Written last: its presence means a complete build. Times are the build's start, so a file saved while
// the build ran counts as newer.
const manifest = {
  builtAt: started,
  inputs: sourceInputs(result.metafile),
  templateInputs: sourceInputs(template.metafile),
  // ASCII-only: bin/slipway.cjs reads it as latin1, which is cheaper than decoding UTF-8.
  templateAscii: /^[\x00-\x7f]*$/.test(readFileSync(join(outdir, 'template.cjs'), 'latin1')),
  // Keys bin/slipway.cjs's V8 code cache for template.cjs.
  templateHash: createHash('sha256')
    .update(readFileSync(join(outdir, 'template.cjs')))
    .digest('hex')
    .slice(0, 16),
};
writeFileSync(join(outdir, 'inputs.json'), `${JSON.stringify(manifest, null, 1)}\n`);
