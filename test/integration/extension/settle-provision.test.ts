import { describe, expect, it } from 'vitest';
import type { Ledger } from '../../../src/shared/ledger/ledger.ts';
import type { RowState } from '../../../src/shared/ledger/states.ts';
import { entryOf, type ProvisionRecord } from '../../../src/shared/provisions/entries.ts';
import { ProvisionStore } from '../../../src/shared/provisions/store.ts';
import { settleProvision, type RowVerdict } from '../../../src/workers/status/settle.ts';
import { dropWithRows, ledgerPerTest } from '../../helpers/ledger.ts';

/*
 * settleProvision on a real Redis: which rows of a provision it settles (extension_submitted with
 * that provision id, and no other), what each row ends as, the counts it returns, the drop's
 * counters and completion, and that settling again changes nothing.
 */

let ledger: Ledger;
let store: ProvisionStore;
const redis = ledgerPerTest('settle', (prefix, l) => {
  ledger = l;
  store = new ProvisionStore(redis, prefix);
});

const DONE: RowVerdict = { state: 'done', patch: {} };

/** Rows 1..n of `dropId` in the given states, each submitted in `provisionIds[i]`. */
function seed(dropId: string, states: RowState[], provisionIds: string[]): Promise<void> {
  return dropWithRows(ledger, dropId, states, (i) => ({ uuid: `uuid-${i + 1}`, provisionId: provisionIds[i]! }));
}

function provision(provisionId: string, entries: string[]): ProvisionRecord {
  return { provisionId, batchId: 'b1', entries, submittedAt: 1 };
}

describe('settleProvision', () => {
  it("settles only the provision's waiting rows, each by its verdict or the fallback, and forgets the provision", async () => {
    // Row 3 was submitted again in p2 (a retried batch); row 4 settled already; row 5 never got here.
    await seed(
      'd1',
      ['extension_submitted', 'extension_submitted', 'extension_submitted', 'done', 'extension_batched'],
      ['p1', 'p1', 'p2', 'p1', 'p1'],
    );
    // A second drop in the same provision.
    await seed('d2', ['extension_submitted'], ['p1']);
    const p = provision('p1', [1, 2, 3, 4, 5].map((r) => entryOf('d1', r)).concat(entryOf('d2', 1)));
    await redis.hset(store.keys.provisions, 'p1', JSON.stringify(p));
    await store.setStatusJob('p1', 'st-p1-0');
    const failed: RowVerdict = { state: 'extension_failed', patch: { code: 'INVALID_VALUE', error: 'spend: bad' } };
    const verdicts = new Map([
      [entryOf('d1', 2), failed],
      [entryOf('d1', 3), failed],
    ]);

    const counts = await settleProvision({ ledger, store }, p, verdicts, {
      state: 'done',
      patch: { warnings: ['w'] },
    });

    expect(counts).toEqual({ done: 2, extension_failed: 1 });
    const rows = await ledger.getRows('d1', [1, 2, 3, 4, 5]);
    expect(rows.map((r) => r.state)).toEqual([
      'done',
      'extension_failed',
      'extension_submitted',
      'done',
      'extension_batched',
    ]);
    expect(rows[0]!.outcome).toMatchObject({ provisionId: 'p1', warnings: ['w'] });
    expect(rows[1]!.outcome).toMatchObject({ provisionId: 'p1', code: 'INVALID_VALUE', error: 'spend: bad' });
    expect(rows[2]!.outcome).toEqual({
      uuid: 'uuid-3',
      provisionId: 'p2',
      userName: 'u3@example.com',
      employeeNumber: 'E3',
    });
    expect((await ledger.getRows('d2', [1]))[0]?.state).toBe('done');
    const d1 = await ledger.getDrop('d1');
    expect(d1?.counts).toMatchObject({ done: 2, extension_failed: 1, extension_submitted: 1, extension_batched: 1 });
    expect(await redis.hget(ledger.keys('d1').counts, 'code:INVALID_VALUE')).toBe('1');
    expect(d1?.meta.status).toBe('running');
    // d2's only row settled: that drop is complete.
    expect((await ledger.getDrop('d2'))?.meta.status).toBe('complete');
    expect(await store.getProvision('p1')).toBeUndefined();
    expect(await store.statusJobOf('p1')).toBeUndefined();

    // Settling again (a repeated status job) moves and counts nothing.
    expect(await settleProvision({ ledger, store }, p, new Map(), DONE)).toEqual({});
    expect((await ledger.getRows('d1', [2]))[0]?.state).toBe('extension_failed');
  });

  it('completes the drop when its last waiting rows settle, and reads the rows of a compacted drop', async () => {
    await seed('d1', ['extension_submitted', 'extension_submitted'], ['p1', 'p1']);
    const p = provision('p1', [entryOf('d1', 1), entryOf('d1', 2)]);
    expect(await settleProvision({ ledger, store }, p, new Map(), DONE)).toEqual({ done: 2 });
    expect((await ledger.getDrop('d1'))?.meta.status).toBe('complete');
    await ledger.compactDrop('d1');
    // A late repeat of the status check on a compacted drop: nothing to settle, no error.
    expect(await settleProvision({ ledger, store }, p, new Map(), DONE)).toEqual({});
    expect((await ledger.getRows('d1', [1, 2])).map((r) => r.state)).toEqual(['done', 'done']);
  });

  it('forgets a provision that carried no rows', async () => {
    const p = provision('p0', []);
    await redis.hset(store.keys.provisions, 'p0', JSON.stringify(p));
    await store.setStatusJob('p0', 'st-p0-0');
    expect(await settleProvision({ ledger, store }, p, new Map(), DONE)).toEqual({});
    expect(await store.getProvision('p0')).toBeUndefined();
    expect(await store.statusJobOf('p0')).toBeUndefined();
  });
});
