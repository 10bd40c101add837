/**
 * A thread that keeps a PostgreSQL store's heartbeat for the trial its process trains. Training is synchronous and
 * holds the main thread's event loop for a whole epoch, so a heartbeat sent from there would stop for minutes on a
 * big epoch; this thread has its own event loop and connection, and dies with the process (kill -9 included), which
 * is what the other workers need to see. The main thread posts `{ id, worker }` when a trial starts and `null` when
 * it ends.
 */
import { parentPort, workerData } from 'node:worker_threads';
import pg from 'pg';

const { url, everyMs } = workerData as { url: string; everyMs: number };
let held: { id: number; worker: string } | null = null;
let client: pg.Client | null = null;
let busy = false;

async function connection(): Promise<pg.Client> {
  if (client) return client;
  const c = new pg.Client({ connectionString: url });
  // A lost connection is dropped here and made again at the next beat.
  c.on('error', () => {
    if (client === c) client = null;
  });
  await c.connect();
  client = c;
  return c;
}

async function beat(): Promise<void> {
  if (!held || busy) return;
  busy = true;
  try {
    const c = await connection();
    await c.query(`UPDATE convlab.trials SET heartbeat_at = $1 WHERE id = $2 AND worker = $3 AND status = 'running'`, [
      new Date().toISOString(),
      held.id,
      held.worker,
    ]);
  } catch {
    // The server is away: the next beat tries again; the main thread's store says when it waits for the server.
    const c = client;
    client = null;
    await c?.end().catch(() => {});
  } finally {
    busy = false;
  }
}

parentPort!.on('message', (message: { id: number; worker: string } | null) => {
  held = message;
  void beat();
});
setInterval(() => void beat(), everyMs);
