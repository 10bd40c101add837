/**
 * What a trial's process costs, recorded with each epoch: its resident memory (MB) when the epoch ends and the CPU
 * time (seconds, user and system, all threads) the epoch took. The dashboard's system view reads them; they are not
 * metrics, so tables and curves of metrics leave them out.
 */
export const SYSTEM_KEYS = ['rss_mb', 'cpu_seconds'] as const;

/** Each call gives the process's memory now and the CPU time since the previous call (or since `start`). */
export function systemMeter(): () => { rss_mb: number; cpu_seconds: number } {
  let last = process.cpuUsage();
  return () => {
    const used = process.cpuUsage(last);
    last = process.cpuUsage();
    return { rss_mb: process.memoryUsage.rss() / 2 ** 20, cpu_seconds: (used.user + used.system) / 1e6 };
  };
}
