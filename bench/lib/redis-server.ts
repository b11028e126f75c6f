import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort, onPath, startChild, stopAll, waitUntil } from '../../src/demo/processes.ts';

/**
 * A private redis-server on a free port, started by the benchmark: no other tenant adds to
 * `used_memory` or competes for its single thread. No persistence (RDB/AOF off), so fsync is not
 * part of the figures; `noeviction` as in production.
 */
export interface BenchRedis {
  url: string;
  version: string;
  /** `INFO memory` used_memory, in bytes. */
  usedMemory(): Promise<number>;
  /** `INFO memory` used_memory_scripts: the Lua scripts Redis holds (each client's scripts, once). */
  scriptsMemory(): Promise<number>;
  /**
   * Frees Redis's per-command statistics (CONFIG RESETSTAT) and returns the bytes that freed:
   * Redis 7 keeps a latency histogram per command name used (latency-tracking), tens of KB each,
   * whatever the data. Resets INFO's counters too, so for the end of a run.
   */
  releaseCommandStats(): Promise<number>;
  /** A plain client for the benchmark's own reads (closed by `stop`). */
  client: Redis;
  stop(): Promise<void>;
}

export async function startBenchRedis(): Promise<BenchRedis> {
  if (!onPath('redis-server')) throw new Error('redis-server is not on the PATH: the benchmarks start a private one');
  const dir = await mkdtemp(join(tmpdir(), 'provision-bench-redis-'));
  const port = await freePort();
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--maxmemory-policy',
    'noeviction',
    '--dir',
    dir,
  ];
  const child = startChild('redis', 'redis-server', args, process.env, dir);
  const url = `redis://127.0.0.1:${port}`;
  const client = new Redis(url, { maxRetriesPerRequest: null, lazyConnect: true });
  client.on('error', () => undefined);
  try {
    await waitUntil(
      'bench redis',
      async () => {
        if (client.status === 'wait') await client.connect();
        return (await client.ping()) === 'PONG';
      },
      10_000,
      child,
    );
  } catch (err) {
    client.disconnect();
    await stopAll([child], 5_000);
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const version = infoField(await client.info('server'), 'redis_version') ?? 'unknown';
  const usedMemory = async (): Promise<number> => Number(infoField(await client.info('memory'), 'used_memory') ?? 0);
  return {
    url,
    version,
    client,
    usedMemory,
    scriptsMemory: async () => Number(infoField(await client.info('memory'), 'used_memory_scripts') ?? 0),
    releaseCommandStats: async () => {
      const before = await usedMemory();
      await client.config('RESETSTAT');
      return before - (await usedMemory());
    },
    stop: async () => {
      client.disconnect();
      await stopAll([child], 5_000);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** One `field:value` line of an INFO section. */
export function infoField(info: string, field: string): string | undefined {
  for (const line of info.split(/\r?\n/)) {
    if (line.startsWith(`${field}:`)) return line.slice(field.length + 1).trim();
  }
  return undefined;
}
