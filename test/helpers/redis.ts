import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { deleteKeysByPrefix } from '../../src/shared/redis.ts';

export const TEST_REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A queue/ledger prefix of its own for one test, with the hash tag our keys use. */
export function uniquePrefix(label = 't'): string {
  return `{test-${label}-${randomBytes(4).toString('hex')}}`;
}

export function testRedis(): Redis {
  return new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
}

/** Deletes every key under a prefix (SCAN, never KEYS). */
export const deletePrefix = deleteKeysByPrefix;

/**
 * Counts the commands a real connection sends from now on (for round-trip assertions); `restore`
 * puts its own sendCommand back.
 */
export function countCommands(conn: Redis): { readonly n: number; reset(): void; restore(): void } {
  const send = conn.sendCommand.bind(conn);
  let n = 0;
  conn.sendCommand = ((...args: Parameters<Redis['sendCommand']>) => {
    n += 1;
    return send(...args);
  }) as Redis['sendCommand'];
  return {
    get n() {
      return n;
    },
    reset: () => {
      n = 0;
    },
    restore: () => {
      conn.sendCommand = send;
    },
  };
}
