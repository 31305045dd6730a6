#!/usr/bin/env node
// Entry point for `npx skiff`. Node 24 runs the TypeScript sources directly.
import { main } from '../src/cli/main.ts';

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`skiff: ${err instanceof Error ? err.message : String(err)}\n`);
    if (process.env.SKIFF_LOG === 'debug' && err instanceof Error) process.stderr.write(`${err.stack}\n`);
    process.exit(1);
  },
);
