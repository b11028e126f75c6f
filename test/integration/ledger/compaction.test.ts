import { describe, expect, it } from 'vitest';
import { Ledger } from '../../../src/shared/ledger/ledger.ts';
import { ledgerPerTest } from '../../helpers/ledger.ts';
import { PAGE_ROWS } from '../../../src/shared/ledger/pages.ts';

let prefix: string;
let ledger: Ledger;
const redis = ledgerPerTest('compact', (p, l) => {
  prefix = p;
  ledger = l;
});

/** A finished drop of `rows` rows over two and a half pages: most done, every 7th failed (its record kept), row 3 invalid. */
async function finishedDrop(rows: number, id = 'd1'): Promise<void> {
  await ledger.createDrop({ id, file: 'hr.csv', sha256: 'abc', format: 'csv', createdAt: 1 });
  await ledger.addRows(
    id,
    Array.from({ length: rows }, (_, i) =>
      i + 1 === 3
        ? {
            row: 3,
            state: 'invalid' as const,
            outcome: { error: 'hr.csv row 3: email: not an address', column: 'email' },
          }
        : {
            row: i + 1,
            state: 'pending' as const,
            data: { userName: `u${i + 1}@x.example` },
            outcome: { userName: `u${i + 1}@x.example`, employeeNumber: `E${i + 1}` },
            employeeNumber: `E${i + 1}`,
          },
    ),
  );
  await ledger.finishIngest(id, rows, 'running');
  for (let row = 1; row <= rows; row += 1) {
    if (row === 3) continue;
    if (row % 7 === 0)
      await ledger.transition(id, row, 'identity_failed', { patch: { error: 'Concur said no', code: '400' } });
    else
      await ledger.transition(id, row, 'done', {
        patch: { uuid: `uuid-${row}`, action: 'create', provisionId: `p-${Math.ceil(row / 100)}` },
      });
  }
}

async function everything(id = 'd1') {
  const rows = [];
  for await (const r of ledger.iterateRows(id)) rows.push(r);
  const states = [];
  for await (const r of ledger.iterateRowStates(id)) states.push(r);
  return { rows, states };
}

describe('ledger compaction', () => {
  it('moves a finished drop into pages: every reader sees the same rows, the per-row hashes are gone', async () => {
    const n = Math.floor(PAGE_ROWS * 2.5);
    await finishedDrop(n);
    expect((await ledger.getDrop('d1'))?.meta.status).toBe('complete');
    const before = await everything();
    const someRows = await ledger.getRows('d1', [1, 3, 7, n, n + 1]);
    const k = ledger.keys('d1');
    const memBefore = (await redis.memory('USAGE', k.out)) ?? 0;

    expect(await ledger.compactDrop('d1', 42)).toEqual({ rows: n, pages: 3 });
    expect(await redis.hlen(k.rows)).toBe(0);
    expect(await redis.hlen(k.out)).toBe(0);
    expect(await redis.hlen(k.data)).toBe(0);
    const after = await everything();
    expect(after).toEqual(before);
    expect(before.rows).toHaveLength(n);
    expect(await ledger.getRows('d1', [1, 3, 7, n, n + 1])).toEqual(someRows);
    // The failed row keeps its record (replay needs it), the invalid one its reason.
    const [seven] = await ledger.getRows('d1', [7]);
    expect(seven).toMatchObject({
      state: 'identity_failed',
      data: { userName: 'u7@x.example' },
      outcome: { error: 'Concur said no' },
    });
    expect((await ledger.getDrop('d1'))?.meta.compactedAt).toBe(42);
    // The counters are untouched, and the pages take a fraction of what the outcomes took alone.
    expect((await ledger.getDrop('d1'))?.counts).toMatchObject({
      done: before.rows.filter((r) => r.state === 'done').length,
      invalid: 1,
    });
    let pageBytes = 0;
    for (let p = 0; p < 3; p += 1) pageBytes += (await redis.memory('USAGE', `${k.pagePrefix}${p}`)) ?? 0;
    expect(pageBytes).toBeLessThan(memBefore / 2);
    // Once is enough.
    expect(await ledger.compactDrop('d1')).toEqual({ rows: 0, pages: 0 });
  });

  it('leaves a running drop alone', async () => {
    await ledger.createDrop({ id: 'd2', file: 'hr.csv', sha256: 'abc', format: 'csv', createdAt: 1 });
    await ledger.addRows('d2', [{ row: 1, state: 'pending', data: {} }]);
    await ledger.finishIngest('d2', 1, 'running');
    expect(await ledger.compactDrop('d2')).toEqual({ rows: 0, pages: 0 });
    expect(await redis.hlen(ledger.keys('d2').rows)).toBe(1);
  });

  it('two compactions at once, or one resumed after a crash half-way, lose no row', async () => {
    await finishedDrop(1200);
    const before = await everything();
    // A crash after the first page: that page is compacted, the rest still in the hashes.
    const k = ledger.keys('d1');
    const partial = new Ledger(redis, prefix);
    await partial.compactDrop('d1');
    // Put page 1's rows back as if that page never moved, and forget the mark.
    const page1 = await ledger.getRows(
      'd1',
      Array.from({ length: 200 }, (_, i) => 1001 + i),
    );
    for (const r of page1) {
      await redis.hset(k.rows, String(r.row), r.state);
      await redis.hset(k.out, String(r.row), JSON.stringify(r.outcome));
      if (r.data !== undefined) await redis.hset(k.data, String(r.row), JSON.stringify(r.data));
    }
    await redis.del(`${k.pagePrefix}1`);
    await redis.hdel(k.meta, 'compactedAt');
    expect(await everything()).toEqual(before);
    const [a, b] = await Promise.all([ledger.compactDrop('d1'), partial.compactDrop('d1')]);
    expect(a.rows + b.rows).toBeGreaterThanOrEqual(200);
    expect(await everything()).toEqual(before);
    expect(await redis.hlen(k.rows)).toBe(0);
  });
});
