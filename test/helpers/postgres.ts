/**
 * A real PostgreSQL server for tests, started from Debian's binaries (/usr/lib/postgresql/N/bin, or
 * CONVLAB_PG_BIN) into a temporary folder, listening on a free port of 127.0.0.1, and stopped at the end. PostgreSQL
 * refuses to run as root, so under root it runs as the `postgres` user (or `nobody`). Logins over TCP need the
 * password (scram-sha-256), so a wrong one can be tested. Tests skip, visibly, where no binaries are found.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

function binDir(): string | null {
  if (process.env.CONVLAB_PG_BIN) return existsSync(join(process.env.CONVLAB_PG_BIN, 'postgres')) ? process.env.CONVLAB_PG_BIN : null;
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return null;
  const versions = readdirSync(base)
    .filter((v) => existsSync(join(base, v, 'bin', 'postgres')) && existsSync(join(base, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length ? join(base, versions[0], 'bin') : null;
}

const BIN = binDir();
export const noPostgres: string | false = BIN
  ? false
  : 'no PostgreSQL server binaries (apt-get install postgresql, or set CONVLAB_PG_BIN to the folder holding initdb and postgres)';

export const PG_PASSWORD = 'convlab-test';

/** Under root, the user the server runs as. */
function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  for (const name of ['postgres', 'nobody']) {
    try {
      const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
      const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
      return { uid, gid };
    } catch {
      // try the next
    }
  }
  throw new Error('running as root, and neither a postgres nor a nobody user exists to run PostgreSQL as');
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface TestPostgres {
  /** postgres://convlab:PASSWORD@127.0.0.1:PORT/ (append a database name). */
  base: string;
  port: number;
  /** A fresh, empty database's URL. */
  database(name: string): Promise<string>;
  /** Stops the server (fast shutdown) and starts it again on the same port after `ms`. */
  pause(ms: number): Promise<void>;
  stop(): Promise<void>;
}

/** `durable: false` (tests) turns fsync and synchronous commits off; a benchmark keeps PostgreSQL's defaults. */
export async function startPostgres(options: { durable?: boolean } = {}): Promise<TestPostgres> {
  if (!BIN) throw new Error(String(noPostgres));
  const dir = mkdtempSync(join(tmpdir(), 'convlab-pg-'));
  const data = join(dir, 'data');
  const user = serverUser();
  const pwfile = join(dir, 'pw');
  writeFileSync(pwfile, `${PG_PASSWORD}\n`);
  if (user) {
    chownSync(dir, user.uid, user.gid);
    chownSync(pwfile, user.uid, user.gid);
  }
  const init = spawnSync(
    join(BIN, 'initdb'),
    ['-D', data, '-U', 'convlab', '--pwfile', pwfile, '--auth-local=trust', '--auth-host=scram-sha-256', '-E', 'UTF8', '--no-sync'],
    { encoding: 'utf8', ...user },
  );
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr}`);
  const port = await freePort();
  let server: ChildProcess | null = null;
  const start = async () => {
    server = spawn(
      join(BIN, 'postgres'),
      [
        '-D',
        data,
        '-k',
        dir,
        '-h',
        '127.0.0.1',
        '-p',
        String(port),
        ...(options.durable ? [] : ['-c', 'fsync=off', '-c', 'full_page_writes=off', '-c', 'synchronous_commit=off']),
      ],
      { stdio: 'ignore', ...user },
    );
    const base = `postgres://convlab:${PG_PASSWORD}@127.0.0.1:${port}/postgres`;
    for (let i = 0; i < 200; i++) {
      const c = new pg.Client({ connectionString: base });
      try {
        await c.connect();
        await c.end();
        return;
      } catch {
        await c.end().catch(() => {});
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    throw new Error(`PostgreSQL did not start on port ${port}`);
  };
  const halt = async () => {
    const s = server as ChildProcess | null;
    if (!s || s.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      s.once('exit', () => resolve());
      s.kill('SIGINT');
    });
  };
  await start();
  const base = `postgres://convlab:${PG_PASSWORD}@127.0.0.1:${port}/`;
  return {
    base,
    port,
    database: async (name) => {
      const c = new pg.Client({ connectionString: `${base}postgres` });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS "${name}"`);
        await c.query(`CREATE DATABASE "${name}"`);
      } finally {
        await c.end();
      }
      return `${base}${name}`;
    },
    pause: async (ms) => {
      await halt();
      await new Promise((r) => setTimeout(r, ms));
      await start();
    },
    stop: async () => {
      await halt();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
