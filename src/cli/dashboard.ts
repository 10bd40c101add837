/** `convlab dashboard` (alias `ui`): serves the read-only dashboard over a run store until Ctrl-C. */
import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { QueryError } from '../dashboard/data.js';
import { isLoopback, startDashboard } from '../dashboard/server.js';
import { SpecFileError } from '../lab/spec.js';
import { defaultStore } from './lab.js';
import { isPostgresUrl, redactUrl } from '../lab/pg_store.js';

export function registerDashboardCommand(program: Command): void {
  program
    .command('dashboard')
    .alias('ui')
    .description('serve a live, read-only dashboard of the run store in the browser (experiments, runs, curves, sweeps, trials)')
    .option('--store <dir>', 'the run store: a folder (default .convlab), a postgres:// URL, or CONVLAB_STORE')
    .option('--port <n>', 'the port (0: any free one)', '4700')
    .option('--host <host>', 'the address to listen on; anything but loopback lets anyone who can reach it read the store', '127.0.0.1')
    .option('--open', 'open the dashboard in the default browser')
    .action(async (opts: { store?: string; port: string; host: string; open?: boolean }) => {
      if (!/^\d+$/.test(opts.port) || Number(opts.port) > 65535)
        throw new SpecFileError(`--port: expected a port number from 0 to 65535, got '${opts.port}'`);
      if (!opts.host.trim()) throw new SpecFileError('--host: expected an address such as 127.0.0.1, got an empty string');
      if (!isLoopback(opts.host))
        process.stderr.write(
          `convlab: warning: --host ${opts.host} is not a loopback address: anyone who can reach this machine on that address can read the whole run store\n`,
        );
      const ref = opts.store ?? defaultStore();
      let d: Awaited<ReturnType<typeof startDashboard>>;
      try {
        d = await startDashboard({ store: ref, host: opts.host, port: Number(opts.port) });
      } catch (e) {
        if (e instanceof QueryError) throw new SpecFileError(`--port: ${e.message}`);
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EACCES')
          throw new SpecFileError(`--host ${opts.host} --port ${opts.port}: cannot listen there (${code})`);
        throw e;
      }
      console.log(
        `convlab dashboard: ${d.url}  (store ${isPostgresUrl(ref) ? `${redactUrl(ref)}, files in ${d.store.root}` : d.store.root}, read-only; Ctrl-C stops it)`,
      );
      if (opts.open) {
        const opener = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
        const child = spawn(opener, [d.url], { stdio: 'ignore', detached: true });
        child.on('error', () => process.stderr.write(`convlab: could not start ${opener}; open ${d.url} yourself\n`));
        child.unref();
      }
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await d.close();
    });
}
