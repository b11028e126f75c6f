import { afterAll, beforeEach } from 'vitest';
import { Ledger } from '../../src/shared/ledger/ledger.ts';
import { deletePrefix, testRedis, uniquePrefix } from './redis.ts';

/**
 * A fresh key prefix and Ledger for every test of the file (the previous test's keys deleted),
 * handed to `use` before each test; the connection closes after the last. Returns the connection.
 */
export function ledgerPerTest(
  name: string,
  use: (prefix: string, ledger: Ledger) => void,
): ReturnType<typeof testRedis> {
  const redis = testRedis();
  let prefix: string | undefined;
  beforeEach(async () => {
    if (prefix) await deletePrefix(redis, prefix);
    prefix = uniquePrefix(name);
    use(prefix, new Ledger(redis, prefix));
  });
  afterAll(async () => {
    if (prefix) await deletePrefix(redis, prefix);
    await redis.quit();
  });
  return redis;
}
