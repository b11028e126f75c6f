import type { Redis } from 'ioredis';
import { namespaceKeyPrefixes, PIPELINE_QUEUE_NAMES, queueKeyPrefix, recentWritesKey } from '../../src/shared/keys.ts';

/**
 * A key's family: the namespace prefix (or the queue's key prefix under it) cut off, drop ids,
 * row numbers and job ids replaced, so keys group by role.
 */
export function keyFamily(key: string, prefix: string): string {
  const own = [...PIPELINE_QUEUE_NAMES.map((q) => queueKeyPrefix(prefix, q)), prefix].find((p) => key.startsWith(p));
  return key
    .slice(own?.length ?? 0)
    .replace(/:drop:[0-9a-f]{16}/, ':drop:<id>')
    .replace(/:\d+$/, ':<n>')
    .replace(/:(?=[^:]*-)[^:]+$/, ':<job>');
}

/** The keys matching a pattern, a SCAN page at a time (SCAN drops the expired keys it meets). */
async function* scanKeys(redis: Redis, match: string): AsyncGenerator<string[]> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', match, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) yield keys;
  } while (cursor !== '0');
}

/** Every key under one of the namespace's key prefixes, with its bytes (MEMORY USAGE, every element counted). */
async function* keyUsage(redis: Redis, keyPrefix: string): AsyncGenerator<{ key: string; bytes: number }> {
  for await (const keys of scanKeys(redis, `${keyPrefix}*`)) {
    for (const key of keys) {
      yield { key, bytes: Number((await redis.call('MEMORY', 'USAGE', key, 'SAMPLES', '0')) ?? 0) };
    }
  }
}

/** Bytes per key family under a namespace, largest first. */
export async function usageByFamily(redis: Redis, prefix: string): Promise<Record<string, number>> {
  const totals = new Map<string, number>();
  for (const keyPrefix of namespaceKeyPrefixes(prefix)) {
    for await (const { key, bytes } of keyUsage(redis, keyPrefix)) {
      const family = keyFamily(key, prefix);
      totals.set(family, (totals.get(family) ?? 0) + bytes);
    }
  }
  return Object.fromEntries([...totals].sort((a, b) => b[1] - a[1]));
}

/**
 * Bytes of the queues' keys alone (BullMQ's jobs, events and meta under each queue's own tag):
 * bounded whatever the drop's size, by the completed jobs kept and the event streams' cap.
 * Needs a prefix that is one hash tag (`{prov}`), so the queues' keys are apart from the rest.
 */
export async function queueKeyBytes(redis: Redis, prefix: string): Promise<number> {
  const queues = namespaceKeyPrefixes(prefix).slice(1);
  if (queues.length === 0) throw new Error(`${prefix}: the queues' keys are not apart from the rest`);
  let total = 0;
  for (const keyPrefix of queues) for await (const { bytes } of keyUsage(redis, keyPrefix)) total += bytes;
  return total;
}

/**
 * Ends the recent-write keys' window now: what CONFLICT_RESOLVE_MAX_MS (5 min by default) does to
 * them after the last write, without waiting for it. Each key gets a 1 ms TTL, so Redis reclaims
 * them as it would (then a second for its cron to shrink the key tables). Returns how many there were.
 */
export async function expireRecentWrites(redis: Redis, prefix: string): Promise<number> {
  const match = `${recentWritesKey(prefix, '*')}:*`;
  const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
  let expired = 0;
  for await (const keys of scanKeys(redis, match)) {
    const pipeline = redis.pipeline();
    for (const key of keys) pipeline.pexpire(key, 1);
    await pipeline.exec();
    expired += keys.length;
  }
  for (;;) {
    await sleep(100);
    let left = 0;
    for await (const keys of scanKeys(redis, match)) left += keys.length;
    if (left === 0) break;
  }
  await sleep(1_000);
  return expired;
}
