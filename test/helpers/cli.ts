/** Running the convlab command as a user does (a spawned process) and writing spec files for it. */
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface CliResult {
  code: number | null;
  out: string;
  err: string;
}

const BIN = fileURLToPath(new URL('../../../bin/convlab.js', import.meta.url));

/**
 * The run store of commands that name none (train records there): one per test process, removed at its exit, so
 * tests never write into the project folder nor share a store by accident.
 */
export const TEST_STORE = join(tmpdir(), `convlab-test-store-${process.pid}`);
process.on('exit', () => rmSync(TEST_STORE, { recursive: true, force: true }));

/** Runs `convlab args...` (in `cwd`, default the project folder) and collects its exit code and output. */
export function runConvlab(args: string[], timeoutMs = 300_000, cwd?: string): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    timeout: timeoutMs,
    cwd,
    env: { ...process.env, CONVLAB_STORE: process.env.CONVLAB_STORE ?? TEST_STORE },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** A writer of text files inside `dir`, returning each file's path. */
export function fileWriter(dir: string): (name: string, text: string) => string {
  return (name, text) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };
}
