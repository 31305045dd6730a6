#!/usr/bin/env node
// Entry point for `npx skiff`. Node 24 runs the TypeScript sources directly.
// The compile cache keeps each module's stripped and compiled code on disk
// (keyed by content, so edits are picked up), so later starts skip Node's
// TypeScript stripper: ~25 MiB less memory per process and a faster start.
// Worker threads inherit it through NODE_COMPILE_CACHE.
import { enableCompileCache } from 'node:module';

const cache = enableCompileCache();
if (cache.directory && !process.env.NODE_COMPILE_CACHE) process.env.NODE_COMPILE_CACHE = cache.directory;
const { main } = await import('../src/cli/main.ts');

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`skiff: ${err instanceof Error ? err.message : String(err)}\n`);
    if (process.env.SKIFF_LOG === 'debug' && err instanceof Error) process.stderr.write(`${err.stack}\n`);
    process.exit(1);
  },
);
