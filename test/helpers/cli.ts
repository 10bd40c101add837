/** Running the convlab command as a user does (a spawned process) and writing spec files for it. */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface CliResult {
  code: number | null;
  out: string;
  err: string;
}

export function runConvlab(args: string[], timeoutMs = 300_000): CliResult {
  const r = spawnSync(process.execPath, ['bin/convlab.js', ...args], { encoding: 'utf8', timeout: timeoutMs });
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
