/** Running the convlab command as a user does (a spawned process) and writing spec files for it. */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface CliResult {
  code: number | null;
  out: string;
  err: string;
}

const BIN = fileURLToPath(new URL('../../../bin/convlab.js', import.meta.url));

/** Runs `convlab args...` (in `cwd`, default the project folder) and collects its exit code and output. */
export function runConvlab(args: string[], timeoutMs = 300_000, cwd?: string): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: timeoutMs, cwd });
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
