import { describe, expect, it } from 'vitest';
import type { Ledger } from '../../../src/shared/ledger/ledger.ts';
import { ROW_STATES, TRANSITIONS, canMove, isTerminal, type RowState } from '../../../src/shared/ledger/states.ts';
import { entryOf } from '../../../src/shared/provisions/entries.ts';
import { ledgerPerTest } from '../../helpers/ledger.ts';

/*
 * The transition table, run through the ledger's Lua on a real Redis: every (from, to) pair of
 * row states, the moves the table lists and every one it does not. The scripts that move rows
 * besides `transition` (cancel, defer, the batch claim and the submission record) obey it too.
 */

let ledger: Ledger;
ledgerPerTest('transitions', (_prefix, l) => {
  ledger = l;
});

const PAIRS = ROW_STATES.flatMap((from) => ROW_STATES.map((to) => ({ from, to })));

function expected(from: RowState, to: RowState): 'same' | 'terminal' | 'ok' | 'refused' {
  if (from === to) return 'same';
  if (isTerminal(from)) return 'terminal';
  return canMove(from, to) ? 'ok' : 'refused';
}

/** A drop with one row per given state (row i+1 in states[i]), each with a record. */
async function dropWithRows(states: readonly RowState[], id = 'd1'): Promise<void> {
  await ledger.createDrop({ id, file: 'hr.csv', sha256: id, format: 'csv', createdAt: 1 });
  await ledger.addRows(
    id,
    states.map((state, i) => ({ row: i + 1, state, data: { n: i + 1 }, outcome: { batchId: 'b1' } })),
  );
}

async function countsAddUp(id = 'd1'): Promise<void> {
  const view = await ledger.getDrop(id);
  const rows = await ledger.getRows(
    id,
    Array.from({ length: 200 }, (_, i) => i + 1),
  );
  for (const state of ROW_STATES) expect(view?.counts[state], state).toBe(rows.filter((r) => r.state === state).length);
  expect(view?.terminal).toBe(rows.filter((r) => isTerminal(r.state)).length);
}

describe('the transition table, enforced by the ledger', () => {
  it('lists moves between distinct states only, and none out of a terminal state', () => {
    for (const from of ROW_STATES) {
      expect(TRANSITIONS[from], from).not.toContain(from);
      if (isTerminal(from)) expect(TRANSITIONS[from], from).toEqual([]);
    }
  });

  it(`moves a row exactly as the table says, for all ${PAIRS.length} pairs of states`, async () => {
    await dropWithRows(PAIRS.map((p) => p.from));
    const results = await Promise.all(PAIRS.map((p, i) => ledger.transition('d1', i + 1, p.to)));
    const rows = await ledger.getRows(
      'd1',
      PAIRS.map((_, i) => i + 1),
    );
    const seen = PAIRS.map((p, i) => ({ ...p, result: results[i]!.result, now: rows[i]!.state }));
    const want = PAIRS.map((p) => {
      const result = expected(p.from, p.to);
      return { ...p, result, now: result === 'ok' ? p.to : p.from };
    });
    expect(seen).toEqual(want);
    await countsAddUp();
  });

  it('refuses a move the table lacks even when the caller names the row state as allowed', async () => {
    await dropWithRows(['pending', 'identity_done', 'extension_submitted']);
    const refusedMoves: [number, RowState, RowState][] = [
      [1, 'pending', 'extension_submitted'],
      [2, 'identity_done', 'done'],
      [3, 'extension_submitted', 'identity_done'],
    ];
    for (const [row, from, to] of refusedMoves) {
      expect((await ledger.transition('d1', row, to, { from: [from] })).result).toBe('refused');
    }
    expect((await ledger.getRows('d1', [1, 2, 3])).map((r) => r.state)).toEqual([
      'pending',
      'identity_done',
      'extension_submitted',
    ]);
    // A listed move outside the caller's `from` is refused too.
    expect((await ledger.transition('d1', 1, 'done', { from: ['manager_wait'] })).result).toBe('refused');
  });

  it('cancels exactly the rows the table lets end as cancelled', async () => {
    await dropWithRows(ROW_STATES);
    const cancelled = await ledger.cancelRows('d1', 'stopped');
    const rows = await ledger.getRows(
      'd1',
      ROW_STATES.map((_, i) => i + 1),
    );
    expect(rows.map((r) => r.state)).toEqual(ROW_STATES.map((s) => (canMove(s, 'cancelled') ? 'cancelled' : s)));
    expect(cancelled).toBe(ROW_STATES.filter((s) => canMove(s, 'cancelled')).length);
    await countsAddUp();
  });

  it('defers only a pending row', async () => {
    // Row 1 is the manager everyone waits for.
    await dropWithRows(['pending', ...ROW_STATES]);
    const deferred = [];
    for (let i = 0; i < ROW_STATES.length; i += 1) deferred.push(await ledger.deferFor('d1', 1, i + 2));
    expect(deferred).toEqual(ROW_STATES.map((s) => s === 'pending' && canMove('pending', 'manager_wait')));
    await countsAddUp();
  });

  it('lets a batch claim only identity_done rows, and record a submission only for the rows it holds', async () => {
    await dropWithRows(ROW_STATES);
    const entries = ROW_STATES.map((_, i) => entryOf('d1', i + 1));
    const held = await ledger.claimBatch('b1', entries);
    // identity_done is claimed now; extension_batched was claimed by b1 before (its outcome says so).
    const holdable = ROW_STATES.map((s, i) => ({ s, e: entries[i]! })).filter(
      (x) => x.s === 'identity_done' || x.s === 'extension_batched',
    );
    expect(held.sort()).toEqual(holdable.map((x) => x.e).sort());
    expect(await ledger.claimBatch('b2', entries)).toEqual([]);
    const moved = await ledger.recordSubmission({ provisionId: 'p1', batchId: 'b1', entries, submittedAt: 1 });
    expect(moved).toBe(holdable.length);
    const rows = await ledger.getRows(
      'd1',
      ROW_STATES.map((_, i) => i + 1),
    );
    expect(rows.map((r) => r.state)).toEqual(
      ROW_STATES.map((s) => (s === 'identity_done' || s === 'extension_batched' ? 'extension_submitted' : s)),
    );
    await countsAddUp();
  });
});
