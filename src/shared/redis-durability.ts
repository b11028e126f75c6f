import { Cluster, type Redis } from 'ioredis';
import type { RedisConnection } from './redis.ts';

/*
 * Whether Redis keeps what the pipeline writes (docs/operations.md#redis-durability): the queues
 * and the ledger live only there, so an eviction policy other than `noeviction` drops jobs and rows
 * under memory pressure, and a Redis with neither AOF nor RDB snapshots forgets every drop when it
 * restarts. Checked on every master of a cluster.
 */

export interface RedisDurability {
  durable: boolean;
  /** What is wrong, one line each, for logs and /readyz (empty when durable). */
  problems: string[];
}

interface NodeSettings {
  evictionPolicy: string | undefined;
  aof: boolean | undefined;
  /** An RDB `save` schedule is set; undefined when CONFIG is not allowed (managed Redis). */
  rdb: boolean | undefined;
}

function infoField(info: string, field: string): string | undefined {
  return new RegExp(`^${field}:(.*)$`, 'm').exec(info)?.[1]?.trim();
}

async function settingsOf(node: Redis): Promise<NodeSettings> {
  try {
    const [policy, aof, save] = (await Promise.all([
      node.config('GET', 'maxmemory-policy'),
      node.config('GET', 'appendonly'),
      node.config('GET', 'save'),
    ])) as string[][];
    return {
      evictionPolicy: policy?.[1],
      aof: aof?.[1] === 'yes',
      rdb: (save?.[1] ?? '').trim() !== '',
    };
  } catch {
    // CONFIG is often renamed away on managed Redis: INFO still tells the policy and AOF.
    const [memory, persistence] = await Promise.all([node.info('memory'), node.info('persistence')]);
    return {
      evictionPolicy: infoField(memory, 'maxmemory_policy'),
      aof: infoField(persistence, 'aof_enabled') === '1',
      rdb: undefined,
    };
  }
}

function problemsOf(s: NodeSettings, where: string): string[] {
  const problems: string[] = [];
  if (s.evictionPolicy !== 'noeviction') {
    problems.push(
      `${where}maxmemory-policy is ${s.evictionPolicy ?? 'unknown'}, not noeviction: Redis may evict jobs and ledger rows when its memory is full`,
    );
  }
  if (!s.aof && !s.rdb) {
    problems.push(
      s.rdb === undefined
        ? `${where}appendonly is off and CONFIG is not allowed to read the RDB save schedule: a restart may lose every drop`
        : `${where}neither AOF (appendonly no) nor RDB snapshots (save "") are on: a restart loses every drop`,
    );
  }
  return problems;
}

/** Reads the settings of Redis (every master of a cluster) and says whether they keep every key. */
export async function checkRedisDurability(redis: RedisConnection): Promise<RedisDurability> {
  const cluster = redis instanceof Cluster;
  // A cluster knows its masters only once it has loaded the slot table; a command waits for that.
  if (cluster) await redis.ping();
  const nodes: Redis[] = cluster ? redis.nodes('master') : [redis];
  const problems: string[] = [];
  for (const node of nodes) {
    const where = cluster ? `${node.options.host}:${node.options.port}: ` : '';
    problems.push(...problemsOf(await settingsOf(node), where));
  }
  return { durable: problems.length === 0, problems };
}

/**
 * The durability check for probes and scrapes: asked at most every `maxAgeMs` (settings rarely
 * change; a probe every few seconds should not send CONFIG each time).
 */
export class RedisDurabilityCheck {
  private last: { at: number; result: Promise<RedisDurability> } | undefined;

  constructor(
    private readonly redis: RedisConnection,
    private readonly maxAgeMs = 10_000,
  ) {}

  current(): Promise<RedisDurability> {
    const now = Date.now();
    if (!this.last || now - this.last.at >= this.maxAgeMs) {
      const result = checkRedisDurability(this.redis);
      this.last = { at: now, result };
      // A failed read is not cached: the next call asks again.
      result.catch(() => {
        if (this.last?.result === result) this.last = undefined;
      });
    }
    return this.last.result;
  }
}
