import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  CORE,
  SPEND,
  bulkOf,
  ext,
  identityUser,
  startUps,
  validSpend,
  type Json,
  type UpsHarness,
} from './ups-support.ts';

const HOUR = 3600 * 1000;

describe('UPS provision status', () => {
  let h: UpsHarness;
  beforeEach(async () => {
    h = await startUps();
  });
  afterEach(async () => {
    await h.close();
  });

  /** Reads every page of a state filter and returns the operation ids, checking the paging fields. */
  async function readPages(location: string, state: string | undefined, count: number): Promise<string[]> {
    const ids: string[] = [];
    for (let startIndex = 1; ; startIndex += count) {
      const page = await h.detail(location, { startIndex, count, ...(state ? { state } : {}) });
      expect(page.status).toBe(200);
      expect(page.body.startIndex).toBe(startIndex);
      expect(page.body.itemsPerPage).toBe(page.body.operations.length);
      expect(page.body.itemsPerPage).toBeLessThanOrEqual(count);
      ids.push(...page.body.operations.map((o: Json) => o.id as string));
      for (const op of page.body.operations as Json[]) {
        if (state) expect(op.status.completed ? (op.status.success ? 'success' : 'failed') : 'pending').toBe(state);
      }
      if (startIndex + count > page.body.totalResults) {
        expect(ids).toHaveLength(page.body.totalResults);
        return ids;
      }
    }
  }

  it('pages operations with startIndex/count and filters each state', async () => {
    // Odd operations fail (spend user without required fields), even ones succeed: 6 failed, 5 succeeded.
    const users = Array.from({ length: 11 }, (_, i) =>
      identityUser(`P${i}`, { [SPEND]: i % 2 === 0 ? { country: 'US' } : validSpend() }),
    );
    const done = await h.call('POST', '/profile/v4/Bulk', bulkOf(users));
    const location = done.body.meta.location as string;
    const final = await h.waitCompleted(location);
    expect(final.operationsCount).toEqual({ total: 11, success: 5, failed: 6, pending: 0 });

    expect(await readPages(location, 'success', 2)).toEqual(['2', '4', '6', '8', '10']);
    expect(await readPages(location, 'failed', 4)).toEqual(['1', '3', '5', '7', '9', '11']);
    expect(await readPages(location, undefined, 3)).toEqual(['1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11']);
    const none = await h.detail(location, { state: 'pending' });
    expect(none.body).toMatchObject({ totalResults: 0, itemsPerPage: 0, operations: [] });
    // Default page size is 100 from index 1.
    const all = await h.detail(location);
    expect(all.body).toMatchObject({ totalResults: 11, startIndex: 1, itemsPerPage: 11 });

    await h.call('PATCH', '/_sim/config', { processExtensions: false });
    const waiting = await h.call(
      'POST',
      '/profile/v4/Bulk',
      bulkOf(users.slice(0, 5).map((_, i) => identityUser(`Q${i}`))),
    );
    expect(await readPages(waiting.body.meta.location, 'pending', 2)).toEqual(['1', '2', '3', '4', '5']);
    expect((await h.detail(waiting.body.meta.location, { state: 'success' })).body.totalResults).toBe(0);
  });

  it('rejects a bad state or paging value and answers 404 for an unknown provision', async () => {
    const res = await h.call('POST', '/profile/v4/Users', identityUser('S1'));
    const url = res.body.meta.statusUrl as string;
    expect((await h.detail(url, { state: 'done' })).status).toBe(400);
    expect((await h.detail(url, { count: 'many' })).status).toBe(400);
    const unknown = await h.call('GET', '/profile/v4/provisions/00000000-0000-4000-8000-000000000000/status');
    expect(unknown.status).toBe(404);
    expect(unknown.body.status).toBe('404');
  });

  it('fails a request still pending after the timeout, then forgets it after the retention period', async () => {
    await h.call('PATCH', '/_sim/config', { processExtensions: false });
    const res = await h.call(
      'POST',
      '/profile/v4/Bulk',
      bulkOf([identityUser('T1', { [SPEND]: validSpend() }), identityUser('T2')]),
    );
    const url = res.body.meta.location as string;
    await h.advanceClock(119 * 60 * 1000);
    expect((await h.call('GET', url)).body.status).toEqual({ completed: false, success: null });

    await h.advanceClock(61 * 1000);
    const timedOut = await h.detail(url);
    expect(timedOut.body.status).toEqual({ completed: true, success: false });
    expect(timedOut.body.operationsCount).toEqual({ total: 2, success: 0, failed: 2, pending: 0 });
    const op = timedOut.body.operations[0] as Json;
    expect(op.status).toEqual({ completed: true, success: false, code: '408' });
    expect(ext(op, CORE).status.result).toBe('not-processed');
    expect(timedOut.body.meta.completed).toMatch(/\+0000$/);

    // The timed-out request is over: switching processing on does not apply it.
    await h.call('PATCH', '/_sim/config', { processExtensions: true });
    const state = (await h.call('GET', '/_sim/state')).body;
    expect((state.provisions as Json[]).find((p) => p.id === res.body.id)?.status).toEqual({
      completed: true,
      success: false,
    });
    expect((state.users as Json[]).length).toBe(0);

    await h.advanceClock(7 * 24 * HOUR);
    expect((await h.call('GET', url)).status).toBe(404);
    expect(((await h.call('GET', '/_sim/state')).body.provisions as Json[]).some((p) => p.id === res.body.id)).toBe(
      false,
    );
  });

  it('lists every provision with its operations in /_sim/state', async () => {
    const single = await h.call('POST', '/profile/v4/Users', identityUser('S10'));
    const bulk = await h.call('POST', '/profile/v4/Bulk', bulkOf([identityUser('S11'), identityUser('S12')]));
    await h.waitCompleted(single.body.meta.statusUrl);
    await h.waitCompleted(bulk.body.meta.location);
    const provisions = (await h.call('GET', '/_sim/state')).body.provisions as Json[];
    expect(provisions.map((p) => [p.id, p.meta.provisionType, p.operations.length])).toEqual([
      [single.body.meta.provisionId, 'User', 1],
      [bulk.body.id, 'Bulk', 2],
    ]);
  });
});
