import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import type { Ledger, RowMove, TransitionResult } from '../../../src/shared/ledger/ledger.ts';
import { ROW_STATES, type RowState } from '../../../src/shared/ledger/states.ts';
import { dropWithRows as dropWithStates, ledgerPerTest } from '../../helpers/ledger.ts';

/*
 * Ledger.transitionMany (many rows of a drop in one script call) against Ledger.transition on a
 * real Redis: the same results, states, outcomes, counters, completion and released waiters; and
 * Ledger.getRowOutcomes, the read without records that the status stage settles from.
 */

let ledger: Ledger;
const redis: Redis = ledgerPerTest('transition-many', (_prefix, l) => {
  ledger = l;
});

const PAIRS = ROW_STATES.flatMap((from) => ROW_STATES.map((to) => ({ from, to })));

/** A drop with one row per given state (row i+1 in states[i]), each submitted in provision p1. */
function dropWithRows(id: string, states: readonly RowState[], rows = states.length): Promise<void> {
  return dropWithStates(ledger, id, states, () => ({ provisionId: 'p1' }), rows);
}

/** Everything the ledger holds about a drop's rows that a transition may change. */
async function snapshot(id: string, rows: number) {
  const view = await ledger.getDrop(id);
  const all = await ledger.getRows(
    id,
    Array.from({ length: rows }, (_, i) => i + 1),
  );
  const counts = await redis.hgetall(ledger.keys(id).counts);
  return {
    rows: all.map((r) => ({ row: r.row, state: r.state, data: r.data, outcome: r.outcome })),
    counts,
    status: view?.meta.status,
    completedAt: view?.meta.completedAt,
    emp: await redis.exists(ledger.keys(id).emp),
  };
}

describe('Ledger.transitionMany', () => {
  it(`gives every one of the ${PAIRS.length} (from, to) pairs the result, state, outcome and counters of a single transition`, async () => {
    const moves: RowMove[] = PAIRS.map((p, i) => ({
      row: i + 1,
      to: p.to,
      patch: i % 2 === 0 ? { code: `C${i % 5}`, error: 'why' } : { uuid: `uuid-${i + 1}` },
    }));
    await dropWithRows(
      'single',
      PAIRS.map((p) => p.from),
    );
    await dropWithRows(
      'many',
      PAIRS.map((p) => p.from),
    );
    const single: TransitionResult[] = [];
    for (const m of moves) single.push(await ledger.transition('single', m.row, m.to, { patch: m.patch!, now: 7 }));
    const many = await ledger.transitionMany('many', moves, 7);
    expect(many).toEqual(single);
    expect(many.filter((r) => r.result === 'ok').length).toBeGreaterThan(0);
    expect(await snapshot('many', PAIRS.length)).toEqual(await snapshot('single', PAIRS.length));
  });

  it('moves only from the named states, and says missing for a row the drop does not have', async () => {
    await dropWithRows('d1', ['extension_submitted', 'extension_batched', 'extension_submitted']);
    const results = await ledger.transitionMany('d1', [
      { row: 1, to: 'done', from: ['extension_submitted'] },
      { row: 2, to: 'extension_failed', from: ['extension_submitted'] },
      { row: 9, to: 'done', from: ['extension_submitted'] },
      { row: 3, to: 'timed_out', from: ['extension_submitted'], patch: { code: 'PROV_ERR_STATUS_TIMEOUT' } },
    ]);
    expect(results.map((r) => [r.result, r.previous])).toEqual([
      ['ok', 'extension_submitted'],
      ['refused', 'extension_batched'],
      ['missing', undefined],
      ['ok', 'extension_submitted'],
    ]);
    const rows = await ledger.getRowOutcomes('d1', [1, 2, 3]);
    expect(rows.map((r) => r.state)).toEqual(['done', 'extension_batched', 'timed_out']);
    expect(rows[2]!.outcome).toEqual({ provisionId: 'p1', code: 'PROV_ERR_STATUS_TIMEOUT' });
    const view = await ledger.getDrop('d1');
    expect(view?.counts).toMatchObject({ done: 1, timed_out: 1, extension_batched: 1, extension_submitted: 0 });
    expect(view?.terminal).toBe(2);
    expect(await redis.hget(ledger.keys('d1').counts, 'code:PROV_ERR_STATUS_TIMEOUT')).toBe('1');
    expect(view?.meta.status).toBe('running');
  });

  it('completes the drop on its last open row, and only that move says so', async () => {
    await dropWithRows('d1', ['extension_submitted', 'extension_submitted', 'extension_submitted']);
    const results = await ledger.transitionMany(
      'd1',
      [1, 2, 3].map((row) => ({ row, to: 'done', from: ['extension_submitted'], patch: {} })),
      1234,
    );
    expect(results.map((r) => [r.result, r.dropCompleted])).toEqual([
      ['ok', false],
      ['ok', false],
      ['ok', true],
    ]);
    const view = await ledger.getDrop('d1');
    expect(view?.meta).toMatchObject({ status: 'complete', completedAt: 1234, startedAt: 1234 });
    expect(view?.counts.done).toBe(3);
    expect(view?.terminal).toBe(3);
    // The in-drop references go with completion; done rows keep their person in the outcome, not the record.
    expect(await redis.exists(ledger.keys('d1').emp)).toBe(0);
    expect(await redis.hlen(ledger.keys('d1').data)).toBe(0);
    expect((await ledger.getRowOutcomes('d1', [2]))[0]?.outcome).toEqual({
      provisionId: 'p1',
      userName: 'u2@example.com',
      employeeNumber: 'E2',
    });
    // Repeated: nothing moves, nothing is counted twice.
    const again = await ledger.transitionMany(
      'd1',
      [1, 2, 3].map((row) => ({ row, to: 'done', from: ['extension_submitted'] })),
    );
    expect(again.map((r) => r.result)).toEqual(['same', 'same', 'same']);
    expect((await ledger.getDrop('d1'))?.counts.done).toBe(3);
  });

  it('lists the waiters a move releases: a row that ends, or one that gets its uuid without moving', async () => {
    // Rows 1 and 2 are waited for: row 3 waits for row 1, row 4 for row 2.
    await dropWithRows('d1', ['pending', 'pending', 'pending', 'pending', 'pending']);
    expect(await ledger.waitFor('d1', 1, 3)).toEqual({ waiting: true });
    expect(await ledger.waitFor('d1', 2, 4)).toEqual({ waiting: true });
    const results = await ledger.transitionMany('d1', [
      { row: 1, to: 'identity_failed', patch: { code: 'X' } },
      { row: 2, to: 'pending', patch: { uuid: 'uuid-2' } },
      { row: 5, to: 'identity_done', patch: { uuid: 'uuid-5' } },
    ]);
    expect(results.map((r) => [r.result, r.releasedWaiters])).toEqual([
      ['ok', [3]],
      ['same', [4]],
      ['ok', []],
    ]);
    // The sets stay until the caller has re-enqueued the waiters (as with a single transition).
    expect(await ledger.releasedWaiters('d1', [1, 2])).toEqual([3, 4]);
  });

  it('moves more rows than one script call takes, in order', async () => {
    const n = 1_200;
    await dropWithRows(
      'd1',
      Array.from({ length: n }, () => 'extension_submitted' as const),
    );
    const results = await ledger.transitionMany(
      'd1',
      Array.from({ length: n }, (_, i) => ({ row: i + 1, to: i % 3 === 0 ? 'extension_failed' : 'done' })),
    );
    expect(results).toHaveLength(n);
    expect(results.every((r) => r.result === 'ok')).toBe(true);
    expect(results.findIndex((r) => r.dropCompleted)).toBe(n - 1);
    const view = await ledger.getDrop('d1');
    expect(view?.counts).toMatchObject({ extension_failed: 400, done: 800, extension_submitted: 0 });
    expect(view?.meta.status).toBe('complete');
    // Reads of more rows than one HMGET slice of lua/read-rows.lua, with a row the drop lacks.
    const ids = Array.from({ length: n + 1 }, (_, i) => i + 1);
    const rows = await ledger.getRows('d1', ids);
    expect(rows.map((r) => r.row)).toEqual(ids.slice(0, n));
    expect(rows.map((r) => r.state)).toEqual(
      ids.slice(0, n).map((_, i) => (i % 3 === 0 ? 'extension_failed' : 'done')),
    );
    // A failed row keeps its record (a replay sends it again); a done row's is forgotten.
    expect(rows[0]?.data).toEqual({ userName: 'u1@example.com', employeeNumber: 'E1' });
    expect(rows[1]?.data).toBeUndefined();
    expect((await ledger.getRowOutcomes('d1', ids)).map((r) => r.state)).toEqual(rows.map((r) => r.state));
  });

  it('does nothing for no moves', async () => {
    expect(await ledger.transitionMany('nope', [])).toEqual([]);
  });
});

describe('Ledger.getRowOutcomes', () => {
  it('reads states and stored outcomes without records, from the hashes and from the pages of a compacted drop', async () => {
    await dropWithRows('d1', ['extension_submitted', 'extension_submitted', 'invalid']);
    const before = await ledger.getRowOutcomes('d1', [1, 2, 3, 4]);
    expect(before).toEqual([
      { row: 1, state: 'extension_submitted', outcome: { provisionId: 'p1' } },
      { row: 2, state: 'extension_submitted', outcome: { provisionId: 'p1' } },
      { row: 3, state: 'invalid', outcome: { provisionId: 'p1' } },
    ]);
    await ledger.transitionMany('d1', [
      { row: 1, to: 'done', patch: { warnings: ['w'] } },
      { row: 2, to: 'extension_failed', patch: { code: 'E' } },
    ]);
    const finished = await ledger.getRowOutcomes('d1', [1, 2, 3]);
    expect((await ledger.compactDrop('d1')).rows).toBe(3);
    expect(await redis.hlen(ledger.keys('d1').rows)).toBe(0);
    const compacted = await ledger.getRowOutcomes('d1', [1, 2, 3]);
    expect(compacted).toEqual(finished);
    expect(compacted.map((r) => r.state)).toEqual(['done', 'extension_failed', 'invalid']);
    expect(compacted[0]?.outcome).toEqual({
      provisionId: 'p1',
      warnings: ['w'],
      userName: 'u1@example.com',
      employeeNumber: 'E1',
    });
    expect(compacted[1]?.outcome).toEqual({ provisionId: 'p1', code: 'E' });
  });
});
