#!/usr/bin/env node
// Entry point of the convlab command; the TypeScript sources are compiled to dist/ by `npm install`.
import { existsSync } from 'node:fs';

const entry = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('convlab: not built yet: run `npm install` (or `npm run build`) in the convlab folder\n');
  process.exit(1);
}
// Output piped into a command that stops reading (`convlab compare study | head`) ends convlab quietly, as other
// command-line tools do, instead of failing with a broken pipe.
for (const stream of [process.stdout, process.stderr])
  stream.on('error', (e) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
