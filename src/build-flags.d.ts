// Build-time flags: scripts/build-js.mjs replaces them with esbuild's `define`; everywhere else
// (sources, vitest, the unminified Node bundles) they are undefined.

/**
 * false in the minified browser bundle: op definitions drop their test material there. Read as
 * `globalThis.__SIMDGRAD_OP_TESTS__ !== false` (see `OpCommon.tests` in src/ops/registry.ts).
 */
// eslint-disable-next-line no-var
declare var __SIMDGRAD_OP_TESTS__: false | undefined;
