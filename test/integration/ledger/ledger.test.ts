import { describe, expect, it } from 'vitest';
import type { Ledger } from '../../../src/shared/ledger/ledger.ts';
import { ledgerPerTest } from '../../helpers/ledger.ts';

let ledger: Ledger;
const redis = ledgerPerTest('ledger', (_prefix, l) => {
  ledger = l;
});

async function dropWith(rows: number, id = 'd1'): Promise<void> {
  await ledger.createDrop({ id, file: 'hr.csv', sha256: 'abc', format: 'csv', createdAt: 1 });
  await ledger.addRows(
    id,
    Array.from({ length: rows }, (_, i) => ({
      row: i + 1,
      state: 'pending' as const,
      data: { n: i + 1 },
      employeeNumber: `E${i + 1}`,
    })),
  );
}

describe('Ledger', () => {
  it('creates a drop once; the same id again reports it existed', async () => {
    expect(await ledger.createDrop({ id: 'd1', file: 'a.csv', sha256: 'x', format: 'csv', createdAt: 5 })).toBe(true);
    expect(await ledger.createDrop({ id: 'd1', file: 'a.csv', sha256: 'x', format: 'csv', createdAt: 6 })).toBe(false);
    const view = await ledger.getDrop('d1');
    expect(view?.meta.status).toBe('ingesting');
    expect(view?.meta.createdAt).toBe(5);
    expect(await ledger.listDrops()).toEqual(['d1']);
  });

  it('adds rows idempotently and counts them once', async () => {
    await dropWith(3);
    expect(
      await ledger.addRows('d1', [
        { row: 3, state: 'pending' },
        { row: 4, state: 'invalid', outcome: { error: 'bad email', column: 'email' } },
      ]),
    ).toEqual({ added: 1, duplicates: [] });
    const view = await ledger.getDrop('d1');
    expect(view?.counts.pending).toBe(3);
    expect(view?.counts.invalid).toBe(1);
    expect(view?.terminal).toBe(1);
    expect(await ledger.rowForEmployeeNumber('d1', 'E2')).toBe(2);
  });

  it('records a later row with the same userName (any case) or employeeNumber as invalid, naming the first row', async () => {
    await ledger.createDrop({ id: 'd1', file: 'hr.csv', sha256: 'abc', format: 'csv', createdAt: 1 });
    const row = (n: number, userName: string, employeeNumber: string) => ({
      row: n,
      state: 'pending' as const,
      data: { n },
      userName,
      employeeNumber,
      outcome: { userName, employeeNumber },
    });
    const first = await ledger.addRows(
      'd1',
      [row(1, 'Ann@example.com', 'E1'), row(2, 'ann@EXAMPLE.com', 'E2'), row(3, 'bob@example.com', 'E1')],
      'hr.csv',
    );
    expect(first).toEqual({ added: 3, duplicates: [2, 3] });
    // Across batches too, and a re-sent row is not its own duplicate.
    expect(
      await ledger.addRows('d1', [row(1, 'Ann@example.com', 'E1'), row(4, 'cid@example.com', 'E2')], 'hr.csv'),
    ).toEqual({ added: 1, duplicates: [] });
    const rows = await ledger.getRows('d1', [2, 3, 4]);
    expect(rows.map((r) => r.state)).toEqual(['invalid', 'invalid', 'pending']);
    expect(rows[0]?.outcome).toMatchObject({
      column: 'userName',
      code: 'PROV_ERR_INPUT',
      error: 'hr.csv row 2: userName: duplicate userName: row 1 has the same userName',
    });
    expect(rows[1]?.outcome.error).toBe(
      'hr.csv row 3: employeeNumber: duplicate employeeNumber: row 1 has the same employeeNumber',
    );
    expect(rows[0]?.data).toBeUndefined();
    expect((await ledger.getDrop('d1'))?.counts).toMatchObject({ pending: 2, invalid: 2 });
  });

  it('moves rows atomically, ignores repeats, refuses to leave a terminal state', async () => {
    await dropWith(2);
    const first = await ledger.transition('d1', 1, 'done', { patch: { uuid: 'u-1', action: 'create' } });
    expect(first).toMatchObject({ result: 'ok', previous: 'pending' });
    expect((await ledger.transition('d1', 1, 'done')).result).toBe('same');
    expect((await ledger.transition('d1', 1, 'identity_failed')).result).toBe('terminal');
    expect((await ledger.transition('d1', 2, 'extension_submitted', { from: ['identity_done'] })).result).toBe(
      'refused',
    );
    expect((await ledger.transition('d1', 9, 'done')).result).toBe('missing');
    const view = await ledger.getDrop('d1');
    expect(view?.counts).toMatchObject({ pending: 1, done: 1, identity_failed: 0 });
    expect(view?.terminal).toBe(1);
    const [row1] = await ledger.getRows('d1', [1]);
    expect(row1?.outcome).toMatchObject({ uuid: 'u-1', action: 'create' });
    expect(row1?.data).toBeUndefined(); // a done row's record is no longer kept
  });

  it('completes the drop with its last terminal row, only after ingestion ended', async () => {
    await dropWith(2);
    await ledger.transition('d1', 1, 'done');
    await ledger.transition('d1', 2, 'identity_failed', { patch: { error: 'boom' } });
    expect((await ledger.getDrop('d1'))?.meta.status).toBe('ingesting');
    const finished = await ledger.finishIngest('d1', 2, 'running');
    expect(finished).toEqual({ changed: true, completed: true });
    const view = await ledger.getDrop('d1');
    expect(view?.meta.status).toBe('complete');
    expect(view?.meta.completedAt).toBeGreaterThan(0);
    const [row2] = await ledger.getRows('d1', [2]);
    expect(row2?.data).toEqual({ n: 2 }); // failed rows keep their record for replay
  });

  it('reports completion from the transition that ends the last row', async () => {
    await dropWith(2);
    await ledger.finishIngest('d1', 2, 'running');
    expect((await ledger.transition('d1', 1, 'unchanged')).dropCompleted).toBe(false);
    expect((await ledger.transition('d1', 2, 'done')).dropCompleted).toBe(true);
    expect(await ledger.isComplete('d1')).toBe(true);
  });

  it('releases rows waiting for a uuid once they are re-enqueued and forgotten', async () => {
    await dropWith(3);
    expect(await ledger.waitFor('d1', 1, 2)).toEqual({ waiting: true });
    expect(await ledger.waitFor('d1', 1, 3)).toEqual({ waiting: true });
    const t = await ledger.transition('d1', 1, 'identity_done', { patch: { uuid: 'mgr-uuid' } });
    expect(t.releasedWaiters.sort()).toEqual([2, 3]);
    expect(await ledger.waitFor('d1', 1, 2)).toEqual({ uuid: 'mgr-uuid' });
    // Until the caller has re-enqueued them, they stay listed (a worker killed in between loses nothing).
    expect((await ledger.releasedWaiters('d1', [1, 2])).sort()).toEqual([2, 3]);
    await ledger.forgetReleasedWaiters('d1', [1, 2], [2, 3]);
    expect(await ledger.releasedWaiters('d1', [1])).toEqual([]);
    expect((await ledger.transition('d1', 1, 'done')).releasedWaiters).toEqual([]);
  });

  it('forgets only the waiters the caller re-enqueued: a release another job has not re-enqueued stays', async () => {
    await dropWith(4);
    await ledger.waitFor('d1', 1, 2);
    await ledger.waitFor('d1', 1, 3);
    // Job A releases row 1's waiters {2, 3} and dies before re-enqueueing them. Job B, which also
    // holds row 1, saw only row 2 when it started (say) and re-enqueues just that one.
    expect(
      (await ledger.transition('d1', 1, 'identity_done', { patch: { uuid: 'u1' } })).releasedWaiters.sort(),
    ).toEqual([2, 3]);
    await ledger.forgetReleasedWaiters('d1', [1, 4], [2]);
    // A's retry still finds row 3.
    expect(await ledger.releasedWaiters('d1', [1])).toEqual([3]);
    await ledger.forgetReleasedWaiters('d1', [1], [3]);
    expect(await ledger.releasedWaiters('d1', [1])).toEqual([]);
  });

  it('keeps the waiters of a row that has no uuid yet when asked to forget', async () => {
    await dropWith(2);
    await ledger.waitFor('d1', 1, 2);
    expect(await ledger.releasedWaiters('d1', [1])).toEqual([]);
    await ledger.forgetReleasedWaiters('d1', [1], [2]);
    expect((await ledger.transition('d1', 1, 'identity_done', { patch: { uuid: 'u1' } })).releasedWaiters).toEqual([2]);
  });

  it('marks a deferred row absent when the look-up found nobody, until it is written', async () => {
    await dropWith(5);
    expect(await ledger.deferFor('d1', 5, 1, { absent: true })).toBe(true);
    expect(await ledger.deferFor('d1', 5, 2)).toBe(true);
    await ledger.transition('d1', 3, 'manager_wait', { patch: { uuid: 'u3' } });
    await ledger.transition('d1', 4, 'done', { patch: { uuid: 'u4' } });
    expect((await ledger.getRows('d1', [1]))[0]?.outcome.absent).toBe(true);
    expect((await ledger.getRows('d1', [2]))[0]?.outcome.absent).toBeUndefined();
    // Written at last: the mark goes.
    await ledger.transition('d1', 1, 'identity_done', { patch: { uuid: 'u1', absent: null } });
    expect((await ledger.getRows('d1', [1]))[0]?.outcome.absent).toBeUndefined();
  });

  it('names the person from the record while it is kept, and in the outcome once it is forgotten', async () => {
    await ledger.createDrop({ id: 'd1', file: 'hr.csv', sha256: 'abc', format: 'csv', createdAt: 1 });
    const person = (row: number, emp: string) => ({
      row,
      state: 'pending' as const,
      data: { userName: `${emp.toLowerCase()}@x.example`, employeeNumber: emp },
      employeeNumber: emp,
      userName: `${emp.toLowerCase()}@x.example`,
    });
    // Row 4 repeats row 1's employee number: recorded invalid, still named.
    const added = await ledger.addRows('d1', [
      person(1, 'E1'),
      person(2, 'E2'),
      person(3, 'E3'),
      { ...person(4, 'E1'), userName: 'other@x.example', data: { userName: 'other@x.example', employeeNumber: 'E1' } },
    ]);
    expect(added.duplicates).toEqual([4]);
    const k = ledger.keys('d1');
    // A pending row has no outcome field at all, yet reads as named.
    expect(await redis.hexists(k.out, '1')).toBe(0);
    expect((await ledger.getRows('d1', [1]))[0]?.outcome).toEqual({ userName: 'e1@x.example', employeeNumber: 'E1' });
    await ledger.finishIngest('d1', 4, 'running');
    await ledger.transition('d1', 1, 'done', { patch: { uuid: 'u1' } });
    await ledger.transition('d1', 2, 'identity_failed', { patch: { error: 'no' } });
    await ledger.cancelRows('d1', 'stopped by hand');
    expect(await redis.hexists(k.data, '1')).toBe(0);
    expect(JSON.parse((await redis.hget(k.out, '1'))!)).toEqual({
      uuid: 'u1',
      userName: 'e1@x.example',
      employeeNumber: 'E1',
    });
    expect(JSON.parse((await redis.hget(k.out, '3'))!)).toMatchObject({
      error: 'stopped by hand',
      userName: 'e3@x.example',
      employeeNumber: 'E3',
    });
    const rows = await ledger.getRows('d1', [1, 2, 3, 4]);
    expect(rows.map((r) => [r.state, r.outcome.userName, r.outcome.employeeNumber])).toEqual([
      ['done', 'e1@x.example', 'E1'],
      ['identity_failed', 'e2@x.example', 'E2'],
      ['cancelled', 'e3@x.example', 'E3'],
      ['invalid', 'other@x.example', 'E1'],
    ]);
  });

  it('tells a waiter when the target ended without a uuid', async () => {
    await dropWith(2);
    await ledger.waitFor('d1', 1, 2);
    const t = await ledger.transition('d1', 1, 'identity_failed', { patch: { error: 'x' } });
    expect(t.releasedWaiters).toEqual([2]);
    expect(await ledger.waitFor('d1', 1, 2)).toEqual({ ended: true });
  });

  it('peeks at references in one read: the uuid or the end of a row, a row still being written, nothing registered', async () => {
    await dropWith(4);
    await ledger.transition('d1', 1, 'identity_done', { patch: { uuid: 'u-1' } });
    await ledger.transition('d1', 2, 'identity_failed', { patch: { error: 'x' } });
    const peek = await ledger.peekReferences('d1', ['E1', 'E2', 'E3', 'E9', 'E1']);
    expect([...peek]).toEqual([
      ['E1', { row: 1, settled: { uuid: 'u-1' } }],
      ['E2', { row: 2, settled: { ended: true } }],
      ['E3', { row: 3 }],
    ]);
    // Read-only: row 3 still pending and nobody registered as its waiter.
    expect(await ledger.releasedWaiters('d1', [3])).toEqual([]);
    const t = await ledger.transition('d1', 3, 'identity_done', { patch: { uuid: 'u-3' } });
    expect(t.releasedWaiters).toEqual([]);
    // The same answers waitFor gives.
    expect(await ledger.waitFor('d1', 1, 4)).toEqual({ uuid: 'u-1' });
    expect(await ledger.waitFor('d1', 2, 4)).toEqual({ ended: true });
    expect(await ledger.peekReferences('d1', [])).toEqual(new Map());
  });

  it('defers many rows in one round trip, each as deferFor would', async () => {
    await dropWith(5);
    await ledger.transition('d1', 4, 'identity_done', { patch: { uuid: 'u-4' } });
    // Row 1 and 2 wait for pending row 5; row 3's manager (4) has a uuid already; a cycle (5 -> 1) is refused.
    expect(
      await ledger.deferMany('d1', [
        { targetRow: 5, row: 1, absent: true },
        { targetRow: 5, row: 2 },
        { targetRow: 4, row: 3 },
        { targetRow: 1, row: 5 },
      ]),
    ).toEqual([true, true, false, false]);
    const rows = await ledger.getRows('d1', [1, 2, 3, 5]);
    expect(rows.map((r) => [r.row, r.state, r.outcome.absent])).toEqual([
      [1, 'manager_wait', true],
      [2, 'manager_wait', undefined],
      [3, 'pending', undefined],
      [5, 'pending', undefined],
    ]);
    expect((await ledger.getDrop('d1'))?.counts.manager_wait).toBe(2);
    const t = await ledger.transition('d1', 5, 'identity_done', { patch: { uuid: 'u-5' } });
    expect(t.releasedWaiters.sort()).toEqual([1, 2]);
    expect(await ledger.deferMany('d1', [])).toEqual([]);
  });

  it('counts each row once under concurrent transitions', async () => {
    await dropWith(50);
    await ledger.finishIngest('d1', 50, 'running');
    const attempts = [];
    for (let r = 1; r <= 50; r++) {
      attempts.push(
        ledger.transition('d1', r, 'done'),
        ledger.transition('d1', r, 'done'),
        ledger.transition('d1', r, 'identity_failed'),
      );
    }
    const results = await Promise.all(attempts);
    expect(results.filter((r) => r.dropCompleted)).toHaveLength(1);
    const view = await ledger.getDrop('d1');
    expect(view?.terminal).toBe(50);
    expect((view?.counts.done ?? 0) + (view?.counts.identity_failed ?? 0)).toBe(50);
    expect(view?.counts.pending).toBe(0);
  });

  it('iterates rows in order across pages', async () => {
    await dropWith(25);
    await ledger.finishIngest('d1', 25, 'running');
    const seen: number[] = [];
    for await (const r of ledger.iterateRows('d1', 10)) seen.push(r.row);
    expect(seen).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
  });
});
