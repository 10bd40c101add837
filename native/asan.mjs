// npm run test:asan: builds the native addon once with AddressSanitizer (and UndefinedBehaviorSanitizer) into
// native/build-asan/, then runs the kernel conformance tests against it with the sanitizer runtime preloaded. Any
// read or write outside an array aborts the run with a report. Needs g++ with libasan (Debian's gcc has it).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const out = join(here, 'build-asan');
const addon = join(out, 'convlab_native.node');
const cxx = process.env.CXX || 'g++';

const asan = spawnSync(cxx, ['-print-file-name=libasan.so'], { encoding: 'utf8' }).stdout?.trim();
if (!asan || !existsSync(asan)) {
  console.error(`test:asan: ${cxx} has no libasan.so (install g++ with its sanitizer runtime); nothing was run`);
  process.exit(2);
}
const include = [
  join(dirname(process.execPath), '..', 'include', 'node'),
  process.env.npm_config_nodedir && join(process.env.npm_config_nodedir, 'include', 'node'),
].find((d) => d && existsSync(join(d, 'node_api.h')));
if (!include) {
  console.error("test:asan: Node's headers (node_api.h) were not found beside this node binary; nothing was run");
  process.exit(2);
}
mkdirSync(out, { recursive: true });
const sources = readdirSync(join(here, 'src'))
  .filter((f) => f.endsWith('.cc'))
  .map((f) => join(here, 'src', f));
console.log(`test:asan: building ${sources.length} sources with -fsanitize=address,undefined ...`);
const build = spawnSync(
  cxx,
  [
    '-std=c++17',
    '-O1',
    '-g',
    '-fno-omit-frame-pointer',
    '-fsanitize=address,undefined',
    '-fno-sanitize-recover=undefined',
    '-fexceptions',
    '-ffp-contract=fast',
    '-fno-trapping-math',
    '-shared',
    '-fPIC',
    `-I${include}`,
    '-DNODE_GYP_MODULE_NAME=convlab_native',
    ...sources,
    '-o',
    addon,
  ],
  { stdio: 'inherit' },
);
if (build.status !== 0) process.exit(build.status ?? 1);
const tests = ['native.test.js', 'native_boundary.test.js'].map((t) => join(root, 'dist', 'test', 'engine', t));
const env = {
  ...process.env,
  CONVLAB_ADDON: addon,
  LD_PRELOAD: asan,
  // Node itself leaks by design at exit; out-of-bounds accesses, not leaks, are what this run looks for.
  ASAN_OPTIONS: 'detect_leaks=0:abort_on_error=1:halt_on_error=1',
  UBSAN_OPTIONS: 'print_stacktrace=1:halt_on_error=1',
};
const run = spawnSync(process.execPath, ['--test', '--test-reporter=spec', ...tests], { stdio: 'inherit', env });
process.exit(run.status ?? 1);
