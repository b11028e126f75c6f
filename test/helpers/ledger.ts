import { afterAll, beforeEach } from 'vitest';
import { Ledger, type RowOutcome } from '../../src/shared/ledger/ledger.ts';
import type { RowState } from '../../src/shared/ledger/states.ts';
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

/**
 * A running drop whose row i+1 is in `states[i]`, each with a record naming its person
 * (u<n>@example.com, E<n>) and the outcome `outcome(i)`; `rows` is the drop's row count.
 */
export async function dropWithRows(
  ledger: Ledger,
  id: string,
  states: readonly RowState[],
  outcome: (i: number) => RowOutcome,
  rows = states.length,
): Promise<void> {
  await ledger.createDrop({ id, file: 'hr.csv', sha256: id, format: 'csv', createdAt: 1 });
  await ledger.addRows(
    id,
    states.map((state, i) => ({
      row: i + 1,
      state,
      data: { userName: `u${i + 1}@example.com`, employeeNumber: `E${i + 1}` },
      outcome: outcome(i),
    })),
  );
  await ledger.finishIngest(id, rows, 'running');
}
