import type { Redis } from 'ioredis';
import { namespaceKeyPrefixes, PIPELINE_QUEUE_NAMES, queueKeyPrefix } from '../../src/shared/keys.ts';

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

/** Bytes per key family under a namespace (MEMORY USAGE, every element counted), largest first. */
export async function usageByFamily(redis: Redis, prefix: string): Promise<Record<string, number>> {
  const totals = new Map<string, number>();
  for (const keyPrefix of namespaceKeyPrefixes(prefix)) {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${keyPrefix}*`, 'COUNT', 1000);
      cursor = next;
      for (const key of keys) {
        const bytes = Number((await redis.call('MEMORY', 'USAGE', key, 'SAMPLES', '0')) ?? 0);
        const family = keyFamily(key, prefix);
        totals.set(family, (totals.get(family) ?? 0) + bytes);
      }
    } while (cursor !== '0');
  }
  return Object.fromEntries([...totals].sort((a, b) => b[1] - a[1]));
}
