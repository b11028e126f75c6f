import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/shared/logger.ts';
import { createExtensionHandoff } from '../../../src/shared/provisions/handoff.ts';
import { extensionRow, startStage, type StageHarness } from '../../helpers/extension-stage.ts';

/*
 * EXTENSION_LINGER_MS is how long a ready row waits for its Bulk batch to fill: a partial batch
 * goes once its first row has lingered, and a remainder left behind by a full batch waits for its
 * own first row's linger instead of going out small with the flush of the rows before it.
 */

const log = createLogger({ level: 'silent' });
const BULK_ROUTE = 'POST /profile/v4/Bulk';

let stage: StageHarness | undefined;
afterEach(async () => {
  await stage?.close();
  stage = undefined;
});

const rowsFrom = (first: number, n: number): number[] => Array.from({ length: n }, (_, i) => first + i);

describe('extension linger', () => {
  it('cuts a partial batch only once its first row is due, and counts rows of unknown push time as due', async () => {
    stage = await startStage();
    const h = stage;
    let clock = 1_000;
    const handoff = createExtensionHandoff({
      redis: h.redis,
      queues: h.queues,
      prefix: h.prefix,
      lingerMs: 500,
      log,
      now: () => clock,
    });
    await handoff.ready('d1', [1, 2, 3]);
    clock = 2_000;
    await handoff.ready('d1', [4, 5]);

    const early = await h.store.cut({ maxOps: 100, maxBatches: 50, fullOnly: false, now: 2_100, cutBefore: 999 });
    expect(early.batches).toEqual([]);
    expect(early).toMatchObject({ remaining: 5, headSince: 1_000, headSinceBefore: 1_000 });

    // A full batch goes whatever its age; the rest keeps the push time of its own first row.
    const full = await h.store.cut({ maxOps: 3, maxBatches: 50, fullOnly: true, now: 2_100 });
    expect(full.batches.map((b) => b.entries)).toEqual([['d1:1', 'd1:2', 'd1:3']]);
    expect(full).toMatchObject({ remaining: 2, headSince: 2_000, headSinceBefore: 1_000 });

    const due = await h.store.cut({ maxOps: 100, maxBatches: 50, fullOnly: false, now: 2_600, cutBefore: 2_000 });
    expect(due.batches.map((b) => b.entries)).toEqual([['d1:4', 'd1:5']]);
    expect(due).toMatchObject({ remaining: 0, headSince: undefined });
    expect(await h.redis.exists(h.store.keys.readyMarks, h.store.keys.readySeq)).toBe(0);

    // Entries an older version pushed carry no mark: due at once.
    await h.redis.rpush(h.store.keys.ready, 'd1:6', 'd1:7');
    const old = await h.store.cut({ maxOps: 100, maxBatches: 50, fullOnly: false, now: 2_700, cutBefore: 0 });
    expect(old.batches.map((b) => b.entries)).toEqual([['d1:6', 'd1:7']]);
  });

  it('lets a remainder left by a full batch fill up: two Bulks of 100 rows, not 100 + 20 + 80', async () => {
    const lingerMs = 3_000;
    stage = await startStage({ env: { EXTENSION_LINGER_MS: String(lingerMs) } });
    const h = stage;
    const rows = Array.from({ length: 200 }, (_, i) => extensionRow(i + 1));
    const uuids = await h.createUsers(rows.map((r) => ({ userName: r.userName, employeeNumber: r.employeeNumber })));
    await h.seedDrop('dfill', rows, uuids);
    h.startWorkers();
    const t0 = Date.now();
    const at = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, t0 + ms - Date.now())));

    await h.handoff.ready('dfill', rowsFrom(1, 60));
    await at(1_000);
    // 120 ready: a full batch goes at once; 20 rows stay, pushed now.
    await h.handoff.ready('dfill', rowsFrom(61, 60));
    // Past the first rows' linger (when the code before cut the 20 alone), before the 20's own.
    await at(lingerMs + 300);
    await h.handoff.ready('dfill', rowsFrom(121, 80));
    await h.waitComplete('dfill', 60_000);

    const got = await h.ledger.getRows('dfill', rowsFrom(1, 200));
    expect(got.every((r) => r.state === 'done')).toBe(true);
    const perProvision = new Map<string, number>();
    for (const r of got)
      perProvision.set(String(r.outcome.provisionId), (perProvision.get(String(r.outcome.provisionId)) ?? 0) + 1);
    expect([...perProvision.values()]).toEqual([100, 100]);
    const stats = await h.simJson<{ routes: Record<string, Record<string, number>> }>('/_sim/stats');
    expect(Object.values(stats.routes[BULK_ROUTE] ?? {}).reduce((a, b) => a + b, 0)).toBe(2);
    // Nothing waits in the ready list, and no flush is left behind.
    expect(await h.store.readyLength()).toBe(0);
    const counts = await h.queues.extension.getJobCounts('waiting', 'delayed', 'active');
    expect((counts.waiting ?? 0) + (counts.delayed ?? 0) + (counts.active ?? 0)).toBe(0);
  }, 60_000);
});
