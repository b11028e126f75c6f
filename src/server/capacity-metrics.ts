// Whether the pipeline keeps up: how long jobs wait, and how full Redis is (docs/scaling.md).
import { Cluster } from 'ioredis';
import { Gauge, type Registry } from 'prom-client';
import type { Queue } from 'bullmq';
import type { RedisConnection } from '../shared/redis.ts';

/**
 * How long the oldest job of each queue has been waiting to run, in seconds (0 when none waits):
 * a queue whose age grows while calls stay below the rate limit has too few or stuck workers.
 * Counted from when the job became runnable (its creation plus any delay it was given).
 */
export function registerQueueAge(registry: Registry, queues: readonly Queue[], now = Date.now): void {
  new Gauge({
    name: 'provision_queue_oldest_waiting_seconds',
    help: 'Age of the oldest job waiting to run, per queue (0 when none waits).',
    labelNames: ['queue'],
    registers: [registry],
    async collect() {
      const ages = await Promise.all(
        queues.map(async (q) => {
          const [oldest] = await q.getJobs(['wait', 'prioritized'], 0, 0, true);
          const runnableAt = oldest ? oldest.timestamp + (oldest.opts.delay ?? 0) : undefined;
          return { queue: q.name, seconds: runnableAt === undefined ? 0 : Math.max(0, (now() - runnableAt) / 1000) };
        }),
      );
      this.reset();
      for (const { queue, seconds } of ages) this.set({ queue }, seconds);
    },
  });
}

/** `used_memory` and `maxmemory` from INFO memory, summed over the masters of a cluster. */
async function redisMemory(redis: RedisConnection): Promise<{ used: number; max: number }> {
  const nodes = redis instanceof Cluster ? redis.nodes('master') : [redis];
  const infos = await Promise.all(nodes.map((n) => n.info('memory')));
  const field = (info: string, name: string) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)?.[1] ?? 0);
  return {
    used: infos.reduce((sum, i) => sum + field(i, 'used_memory'), 0),
    max: infos.reduce((sum, i) => sum + field(i, 'maxmemory'), 0),
  };
}

/** Redis memory in use and its limit (0 = no maxmemory), for sizing and the memory alert. */
export function registerRedisMemory(registry: Registry, redis: RedisConnection): void {
  // Both gauges of one scrape read one INFO.
  let cache: { at: number; value: Promise<{ used: number; max: number }> } | undefined;
  const read = () => {
    if (!cache || Date.now() - cache.at > 500) cache = { at: Date.now(), value: redisMemory(redis) };
    return cache.value;
  };
  new Gauge({
    name: 'provision_redis_memory_used_bytes',
    help: 'Memory Redis uses (INFO used_memory; summed over the masters of a cluster).',
    registers: [registry],
    async collect() {
      this.set((await read()).used);
    },
  });
  new Gauge({
    name: 'provision_redis_memory_max_bytes',
    help: 'Redis maxmemory (summed over the masters of a cluster); 0 when unlimited.',
    registers: [registry],
    async collect() {
      this.set((await read()).max);
    },
  });
}
