import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { waitUntil } from '../../src/demo/processes.ts';
import { benchScript, spawnChild } from './child.ts';
import { round } from './args.ts';

export interface QueueBaseline {
  jobs: number;
  concurrency: number;
  seconds: number;
  jobsPerSecond: number;
}

/** Deletes every key under a prefix (SCAN, never KEYS). */
export async function deletePrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.unlink(...keys);
  } while (cursor !== '0');
}

/**
 * The floor under any BullMQ pipeline: `jobs` no-op jobs, one per row, added with addBulk by this
 * process and consumed by one worker process, on the same Redis. Timed from the first add until
 * the queue is empty, polling as the pipeline benchmark polls the ledger.
 */
export async function rawQueueThroughput(redisUrl: string, jobs: number, concurrency: number): Promise<QueueBaseline> {
  const prefix = `{bench-raw-${randomBytes(4).toString('hex')}}`;
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue('noop', {
    connection,
    prefix,
    defaultJobOptions: { removeOnComplete: true, removeOnFail: true },
  });
  queue.on('error', () => undefined);
  const child = spawnChild(benchScript('children/noop-worker.js'), [redisUrl, prefix, 'noop', String(concurrency)]);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await waitUntil('noop worker', async () => (await queue.getWorkersCount()) >= 1, 60_000);
    const t0 = performance.now();
    for (let i = 0; i < jobs; i += 1000) {
      const n = Math.min(1000, jobs - i);
      await queue.addBulk(
        Array.from({ length: n }, (_, k) => ({ name: 'noop', data: { dropId: 'baseline', row: i + k + 1 } })),
      );
    }
    for (;;) {
      const c = await queue.getJobCounts('waiting', 'active', 'prioritized', 'delayed');
      if ((c.waiting ?? 0) + (c.active ?? 0) + (c.prioritized ?? 0) + (c.delayed ?? 0) === 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const s = (performance.now() - t0) / 1000;
    return { jobs, concurrency, seconds: round(s, 2), jobsPerSecond: round(jobs / s) };
  } finally {
    child.kill('SIGTERM');
    await exited;
    await queue.close();
    await deletePrefix(connection, prefix);
    await connection.quit();
  }
}
