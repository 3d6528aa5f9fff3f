#!/usr/bin/env node
// `node bin/slipway.mjs ...`: the `slipway` command is bin/slipway.cjs (package.json "bin"); this ESM entry,
// kept for scripts and docs that name it, just runs that file.
import './slipway.cjs';
