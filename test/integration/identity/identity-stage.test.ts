import { describe, expect, it } from 'vitest';
import { ingestDrop } from '../../../src/producers/ingest.ts';
import { PersonAsOf } from '../../../src/shared/identity/as-of.ts';
import { recentWriteKey, recentWritesKey } from '../../../src/shared/keys.ts';
import { createLogger } from '../../../src/shared/logger.ts';
import { releasedRowsRequeue } from '../../../src/shared/queues/index.ts';
import { settleFailedIdentityJob } from '../../../src/workers/identity/processor.ts';
import { person, writeCsvDrop, type DropRecord } from '../../helpers/drops.ts';
import { simulatorPipeline, waitForComplete } from '../../helpers/pipeline.ts';
import {
  ENT,
  identityCalls,
  identityWrites,
  seedPeople,
  simStats as stats,
  simUsers as users,
} from '../../helpers/sim-data.ts';

const log = createLogger({ level: 'silent' });

const t = simulatorPipeline();

const simUsers = () => users(t.sim);
const simStats = () => stats(t.sim);
const seed = (records: DropRecord[]) => seedPeople(t.sim, records);

describe('identity stage', () => {
  it(
    'provisions a mixed drop: creates, updates, unchanged, deactivations, invalid rows, duplicates, managers listed after their reports',
    { timeout: 180_000 },
    async () => {
      const unchanged = Array.from({ length: 150 }, (_, i) => person(i + 1));
      const changed = Array.from({ length: 150 }, (_, i) => person(i + 151));
      const leaving = Array.from({ length: 100 }, (_, i) => person(i + 301));
      const untouched = Array.from({ length: 50 }, (_, i) => person(i + 401));
      await seed([...unchanged, ...changed, ...leaving, ...untouched]);

      const rows: DropRecord[] = [];
      rows.push(...unchanged);
      rows.push(...changed.map((r) => ({ ...r, department: 'Finance', familyName: `${r.familyName}-Renamed` })));
      rows.push(...leaving.map((r) => ({ ...r, active: 'false', terminationDate: '2026-11-30' })));
      // 1,200 new people; each of the first 1,100 reports to someone 100 rows further down the file.
      for (let n = 1001; n <= 2200; n++)
        rows.push(person(n, n <= 2100 ? { managerEmployeeNumber: `E${n + 100}` } : {}));
      // A new person whose manager already exists in Concur (not in the drop).
      rows.push(person(3000, { managerEmployeeNumber: 'E401' }));
      // Deactivating someone Concur never had: nothing to do.
      for (let n = 5001; n <= 5005; n++) rows.push(person(n, { active: 'false' }));
      // Invalid rows and in-drop duplicates.
      for (let n = 6001; n <= 6020; n++) rows.push(person(n, { email: 'not-an-email' }));
      for (let n = 1001; n <= 1010; n++)
        rows.push(person(n + 9000, { userName: `person${n}@example.com`, email: `dup${n}@example.com` }));
      const path = writeCsvDrop(rows);

      const result = await ingestDrop({ ledger: t.h.ledger, identityQueue: t.h.queues.identity, log }, { path });
      expect(result).toMatchObject({ existed: false, rows: rows.length, invalid: 30 });
      t.h.startIdentityWorker({ concurrency: 8 });
      await waitForComplete(t.h.ledger, result.dropId, 120_000);

      const view = await t.h.ledger.getDrop(result.dropId);
      expect(view?.counts).toMatchObject({
        unchanged: 150 + 5,
        invalid: 30,
        done: 150 + 100 + 1200 + 1,
        identity_failed: 0,
        pending: 0,
        manager_wait: 0,
      });
      expect(view?.terminal).toBe(rows.length);

      const users = await simUsers();
      const byEmp = new Map(users.map((u) => [u[ENT].employeeNumber, u]));
      // Exactly one Concur user per person: seeded 450 + created 1,201.
      expect(users).toHaveLength(450 + 1201);
      expect(new Set(users.map((u) => u.userName.toLowerCase())).size).toBe(users.length);
      for (const r of changed) {
        const u = byEmp.get(r.employeeNumber!);
        expect(u?.[ENT].department).toBe('Finance');
        expect(u?.name.familyName).toBe(`${r.familyName}-Renamed`);
      }
      for (const r of leaving) expect(byEmp.get(r.employeeNumber!)?.active).toBe(false);
      for (const r of untouched) expect(byEmp.get(r.employeeNumber!)?.active).toBe(true);
      for (let n = 1001; n <= 2100; n++) {
        expect(byEmp.get(`E${n}`)?.[ENT].manager?.value).toBe(byEmp.get(`E${n + 100}`)?.id);
      }
      expect(byEmp.get('E3000')?.[ENT].manager?.value).toBe(byEmp.get('E401')?.id);
      for (let n = 5001; n <= 5005; n++) expect(byEmp.has(`E${n}`)).toBe(false);

      // The ledger names the action and the error of each row.
      const [first, dupe, bad] = await t.h.ledger.getRows(result.dropId, [1, rows.length, rows.length - 10]);
      expect(first?.outcome).toMatchObject({ action: 'unchanged', uuid: byEmp.get('E1')?.id });
      expect(dupe?.state).toBe('invalid');
      expect(dupe?.outcome.error).toMatch(/userName: duplicate userName: row \d+ has the same userName/);
      expect(bad?.outcome.error).toMatch(/drop\.csv row \d+: email: /);

      // The same file again is the same drop: nothing new is sent.
      const before = identityCalls(await simStats());
      const again = await ingestDrop({ ledger: t.h.ledger, identityQueue: t.h.queues.identity, log }, { path });
      expect(again).toMatchObject({ dropId: result.dropId, existed: true, jobs: 0 });
      await new Promise((r) => setTimeout(r, 300));
      expect(identityCalls(await simStats())).toBe(before);
    },
  );

  it("records what Concur answered with each row move: the version it wrote, and a created person's as-of", async () => {
    const started = Date.now();
    const changed = person(7001);
    await seed([changed]);
    const asOf = Date.parse('2026-11-20T00:00:00Z');
    const rows = [
      ...[7002, 7003, 7004].map((n) => person(n, { asOf: new Date(asOf).toISOString() })),
      { ...changed, department: 'Finance' },
    ];
    const result = await ingestDrop(
      { ledger: t.h.ledger, identityQueue: t.h.queues.identity, log },
      { path: writeCsvDrop(rows) },
    );
    t.h.startIdentityWorker();
    await waitForComplete(t.h.ledger, result.dropId, 60_000);
    expect((await t.h.ledger.getDrop(result.dropId))?.counts.done).toBe(4);

    const company = t.h.config.CONCUR_COMPANY_ID;
    const asOfs = new PersonAsOf(t.h.redis, t.h.prefix, company, 0);
    const recent = recentWritesKey(t.h.prefix, company);
    for (const u of await simUsers()) {
      const meta = u.meta ?? {};
      // The version Concur answered for our create or PATCH: search showing an older one is re-read by id.
      expect(await t.h.redis.get(recentWriteKey(recent, u.id))).toBe(
        `${String(meta.version ?? '')}|${meta.lastModified ?? ''}`,
      );
      expect(await t.h.redis.pttl(recentWriteKey(recent, u.id))).toBeGreaterThan(0);
      // A created person gets the row's as-of; the updated one the drop's (its creation time, no asOf column value).
      if (u[ENT].employeeNumber !== changed.employeeNumber) expect(await asOfs.get(u.id)).toBe(asOf);
      else expect(await asOfs.get(u.id)).toBeGreaterThanOrEqual(started);
    }
  });

  it('costs about one Identity call per new user and none for an unchanged one', async () => {
    const existing = Array.from({ length: 200 }, (_, i) => person(i + 1));
    await seed(existing);
    const fresh = Array.from({ length: 300 }, (_, i) => person(i + 1001));
    const path = writeCsvDrop([...existing, ...fresh]);
    const before = identityCalls(await simStats());
    const result = await ingestDrop({ ledger: t.h.ledger, identityQueue: t.h.queues.identity, log }, { path });
    t.h.startIdentityWorker();
    await waitForComplete(t.h.ledger, result.dropId);
    const calls = identityCalls(await simStats()) - before;
    // 300 creates plus one batched look-up per 50 rows (10 chunks).
    expect(calls).toBe(300 + 10);
    expect((await t.h.ledger.getDrop(result.dropId))?.counts).toMatchObject({ done: 300, unchanged: 200 });
  });

  it('writes each person once even when the manager comes later in the file (no create-then-patch)', async () => {
    // A three-level org listed bottom-up, plus a two-person cycle (each the other's manager).
    const rows = [
      ...Array.from({ length: 100 }, (_, i) => person(i + 1, { managerEmployeeNumber: `E${101 + (i % 10)}` })),
      ...Array.from({ length: 10 }, (_, i) => person(i + 101, { managerEmployeeNumber: 'E200' })),
      person(200),
      person(301, { managerEmployeeNumber: 'E302' }),
      person(302, { managerEmployeeNumber: 'E301' }),
    ];
    const path = writeCsvDrop(rows);
    const result = await ingestDrop({ ledger: t.h.ledger, identityQueue: t.h.queues.identity, log }, { path });
    t.h.startIdentityWorker({ concurrency: 4 });
    await waitForComplete(t.h.ledger, result.dropId);
    expect((await t.h.ledger.getDrop(result.dropId))?.counts).toMatchObject({ done: rows.length, manager_wait: 0 });
    const stats = await simStats();
    // One create per person; only the cycle needs one manager PATCH.
    expect(identityWrites(stats)).toBe(rows.length + 1);
    // Deferred rows the first look-up did not find are created without a second look-up: the
    // searches are those of the 3 ingest chunks (at most two each: a long filter is split), not one
    // more per released group (11 of them here).
    const searches = identityCalls(stats) - identityWrites(stats);
    expect(searches, JSON.stringify(stats.routes)).toBeLessThanOrEqual(6);
    const byEmp = new Map((await simUsers()).map((u) => [u[ENT].employeeNumber, u]));
    for (let i = 0; i < 100; i++)
      expect(byEmp.get(`E${i + 1}`)?.[ENT].manager?.value).toBe(byEmp.get(`E${101 + (i % 10)}`)?.id);
    for (let i = 0; i < 10; i++) expect(byEmp.get(`E${i + 101}`)?.[ENT].manager?.value).toBe(byEmp.get('E200')?.id);
    expect(byEmp.get('E301')?.[ENT].manager?.value).toBe(byEmp.get('E302')?.id);
    expect(byEmp.get('E302')?.[ENT].manager?.value).toBe(byEmp.get('E301')?.id);
  });

  it('a manager whose job failed every attempt releases the rows deferred to it: they are written without the manager', async () => {
    // E1 reports to E2, listed later; nobody is processed yet.
    const path = writeCsvDrop([person(1, { managerEmployeeNumber: 'E2' }), person(2)]);
    const { dropId } = await ingestDrop({ ledger: t.h.ledger, identityQueue: t.h.queues.identity, log }, { path });
    await t.h.queues.identity.drain();
    expect(await t.h.ledger.deferFor(dropId, 2, 1)).toBe(true);
    // Row 2's job gives up for good (say Redis was gone through every attempt).
    await settleFailedIdentityJob(
      t.h.ledger,
      { data: { dropId, rows: [2] } },
      new Error('gone'),
      releasedRowsRequeue(t.h.queues.identity),
    );
    expect(await t.h.ledger.releasedWaiters(dropId, [2])).toEqual([]);
    t.h.startIdentityWorker();
    await waitForComplete(t.h.ledger, dropId);
    const [one, two] = await t.h.ledger.getRows(dropId, [1, 2]);
    expect(two?.state).toBe('identity_failed');
    expect(one?.state).toBe('done');
    expect(String(one?.outcome.warnings)).toContain('E2');
    const byEmp = new Map((await simUsers()).map((u) => [u[ENT].employeeNumber, u]));
    expect(byEmp.get('E1')?.[ENT].manager).toBeUndefined();
    expect(byEmp.has('E2')).toBe(false);
  });

  it('slows down under 429 bursts and 5xx but loses nothing', { timeout: 180_000 }, async () => {
    await t.sim.setKnobs({ identityRps: 40, errorRate: 0.15, seed: 7 });
    const rows = Array.from({ length: 400 }, (_, i) =>
      person(i + 1, i % 2 === 0 ? { managerEmployeeNumber: `E${i + 2}` } : {}),
    );
    const path = writeCsvDrop(rows);
    const result = await ingestDrop({ ledger: t.h.ledger, identityQueue: t.h.queues.identity, log }, { path });
    t.h.startIdentityWorker({ concurrency: 6 });
    t.h.startIdentityWorker({ concurrency: 6 });
    await waitForComplete(t.h.ledger, result.dropId, 120_000);
    const stats = await simStats();
    expect(identityCalls(stats, '429')).toBeGreaterThan(0);
    expect(identityCalls(stats, '503')).toBeGreaterThan(0);
    expect((await t.h.ledger.getDrop(result.dropId))?.counts).toMatchObject({ done: 400, identity_failed: 0 });
    const users = await simUsers();
    expect(users).toHaveLength(400);
    const byEmp = new Map(users.map((u) => [u[ENT].employeeNumber, u]));
    for (let i = 0; i < 400; i += 2)
      expect(byEmp.get(`E${i + 1}`)?.[ENT].manager?.value).toBe(byEmp.get(`E${i + 2}`)?.id);
  });
});
