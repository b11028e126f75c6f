import { describe, expect, it } from 'vitest';
import { runCli } from '../../../src/demo/processes.ts';
import type { Ledger } from '../../../src/shared/ledger/ledger.ts';
import { ledgerPerTest } from '../../helpers/ledger.ts';
import { TEST_REDIS_URL } from '../../helpers/redis.ts';

let prefix: string;
let ledger: Ledger;
const redis = ledgerPerTest('prune', (p, l) => {
  prefix = p;
  ledger = l;
});

/** A drop of `rows` rows created at `createdAt`: finished (all done at `finishedAt`) or left running. */
async function drop(id: string, rows: number, finishedAt?: number): Promise<void> {
  await ledger.createDrop({ id, file: `${id}.csv`, sha256: id, format: 'csv', createdAt: 1 });
  await ledger.addRows(
    id,
    Array.from({ length: rows }, (_, i) => ({
      row: i + 1,
      state: 'pending' as const,
      data: { userName: `u${i}` },
      employeeNumber: `E${i}`,
    })),
  );
  await ledger.finishIngest(id, rows, 'running');
  await ledger.waitFor(id, 1, 2);
  if (finishedAt === undefined) return;
  for (let row = 1; row <= rows; row += 1)
    await ledger.transition(id, row, 'done', { patch: { uuid: `u${row}` }, now: finishedAt });
}

const keysOf = async (): Promise<string[]> => (await redis.keys(`${prefix}:ledger:*`)).sort();
const provision = (args: string[]) =>
  runCli(['prune', ...args], { ...process.env, REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: prefix, LOG_LEVEL: 'warn' });

describe('deleting finished drops', () => {
  it('deleteDrop removes every key of a finished drop, compacted or not, and refuses one in progress', async () => {
    await drop('old', 1500, Date.now());
    await drop('live', 3);
    await ledger.compactDrop('old');
    expect((await keysOf()).some((k) => k.includes(':drop:old:page:'))).toBe(true);
    await expect(ledger.deleteDrop('live')).rejects.toThrow(
      /drop live is running: only a complete, cancelled or rejected drop can be deleted/,
    );
    expect(await ledger.deleteDrop('old')).toEqual({ rows: 1500 });
    expect((await keysOf()).filter((k) => k.includes(':drop:old'))).toEqual([]);
    expect(await ledger.listDrops()).toEqual(['live']);
    expect(await ledger.getDrop('old')).toBeUndefined();
  });

  it('`provision prune --older-than` deletes only drops finished before then; --dry-run deletes nothing', async () => {
    const day = 86_400_000;
    await drop('ancient', 5, Date.now() - 40 * day);
    await drop('recent', 5, Date.now() - 2 * day);
    await drop('running', 5);

    const dry = await provision(['--older-than', '30d', '--dry-run', '--json']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({
      dryRun: true,
      pruned: [{ dropId: 'ancient', status: 'complete', rows: 5 }],
    });
    expect((await ledger.listDrops()).sort()).toEqual(['ancient', 'recent', 'running']);

    const real = await provision(['--older-than', '30d']);
    expect(real.code, real.stderr).toBe(0);
    expect(real.stdout).toContain('deleted drop ancient (complete, 5 rows)');
    expect((await ledger.listDrops()).sort()).toEqual(['recent', 'running']);
    expect((await keysOf()).filter((k) => k.includes(':drop:ancient'))).toEqual([]);
  });

  it('a named drop in progress is refused with exit 3 and nothing is deleted; a bad age is bad input', async () => {
    await drop('done1', 2, Date.now());
    await drop('running', 2);
    const refused = await provision(['done1', 'running']);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain('drop running is running');
    expect((await ledger.listDrops()).sort()).toEqual(['done1', 'running']);
    const bad = await provision(['--older-than', 'a month']);
    expect(bad.code).toBe(3);
    expect(bad.stderr).toContain("--older-than 'a month': expected a number and a unit");
    const none = await provision([]);
    expect(none.code).toBe(3);
    const ok = await provision(['done1']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(await ledger.listDrops()).toEqual(['running']);
  });
});
