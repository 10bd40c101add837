// Builds the native addon with node-gyp during `npm install`. If the build fails (no compiler, no headers), the
// install still succeeds: convlab prints a one-line notice and runs on the TypeScript backend.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

function findNodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  try {
    candidates.push(createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js'));
  } catch {
    // not installed locally
  }
  return candidates.find((c) => c && existsSync(c));
}

if (process.env.CONVLAB_NATIVE === '0') {
  console.log('convlab: CONVLAB_NATIVE=0, skipping the native backend build');
  process.exit(0);
}
const gyp = findNodeGyp();
if (!gyp) {
  console.log('convlab: node-gyp not found; the native backend was not built, convlab will use the TypeScript backend');
  process.exit(0);
}
// Build against the running Node's own headers, so node-gyp never downloads anything.
const args = [gyp, 'rebuild', '--release'];
const prefix = join(dirname(process.execPath), '..');
const nodedir = process.env.npm_config_nodedir || (existsSync(join(prefix, 'include', 'node', 'node_api.h')) ? prefix : undefined);
if (nodedir) args.push(`--nodedir=${nodedir}`);
const r = spawnSync(process.execPath, args, {
  cwd: here,
  stdio: process.env.CONVLAB_NATIVE_VERBOSE ? 'inherit' : 'pipe',
  encoding: 'utf8',
});
if (r.status !== 0) {
  const lines = `${r.stderr ?? ''}\n${r.stdout ?? ''}`.split('\n');
  const reason = lines.find((l) => /error:|ERR! stack Error/.test(l)) ?? `node-gyp exited with ${r.status}`;
  console.log(`convlab: the native backend could not be built (${reason.trim()}); convlab will use the TypeScript backend`);
  process.exit(0);
}
console.log('convlab: native backend built');
