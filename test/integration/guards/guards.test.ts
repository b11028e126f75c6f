import { createHash } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ingestDrop } from '../../../src/producers/ingest.ts';
import { planDrop, type PlannedRow } from '../../../src/producers/plan.ts';
import { DEFAULT_GUARDS } from '../../../src/shared/guards/limits.ts';
import { approveDrop, cancelDrop } from '../../../src/shared/guards/drop-control.ts';
import { dropProgress } from '../../../src/shared/ledger/progress.ts';
import { person, writeCsvDrop, type DropRecord } from '../../helpers/drops.ts';
import { simulatorPipeline, waitForComplete } from '../../helpers/pipeline.ts';
import { ENT, identityWrites, planDeps, seed, silent, simUsers, until } from './support.ts';

const t = simulatorPipeline({
  GUARD_MIN_ROWS: '20',
  MAX_FAILURE_PERCENT: '50',
  MAX_DEACTIVATION_PERCENT: '20',
  MAX_DEACTIVATIONS: '500',
});

const ingestDeps = () => ({
  ledger: t.h.ledger,
  identityQueue: t.h.queues.identity,
  log: silent,
  guards: {
    ...DEFAULT_GUARDS,
    maxDeactivations: 500,
    maxDeactivationPercent: 20,
    maxFailurePercent: 50,
    maxConflicts: 20,
    maxConflictPercent: 5,
    minRows: 20,
  },
});

async function queuedJobs(): Promise<number> {
  const c = await t.h.queues.identity.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
  return Object.values(c).reduce((a, b) => a + b, 0);
}

describe('plan', () => {
  it(
    'says row by row what the real run then does, sends nothing, and runs later without the file',
    { timeout: 120_000 },
    async () => {
      const unchanged = Array.from({ length: 40 }, (_, i) => person(i + 1));
      const changed = Array.from({ length: 40 }, (_, i) => person(i + 41));
      const leaving = Array.from({ length: 10 }, (_, i) => person(i + 81));
      const managerInConcur = person(99);
      await seed(t.sim, [...unchanged, ...changed, ...leaving, managerInConcur]);

      const rows: DropRecord[] = [
        ...unchanged,
        ...changed.map((r) => ({ ...r, department: 'Finance' })),
        ...leaving.map((r) => ({ ...r, active: 'false', terminationDate: '2026-11-30' })),
        // New people; the first 20 report to a manager further down the file (new too).
        ...Array.from({ length: 60 }, (_, i) =>
          person(i + 101, i < 20 ? { managerEmployeeNumber: `E${i + 141}` } : {}),
        ),
        // An existing person who gets an existing manager: an update of manager.value only.
        { ...unchanged[0]!, userName: 'person1@example.com', employeeNumber: 'E1', managerEmployeeNumber: 'E99' },
        person(500, { active: 'false' }), // absent: nothing to deactivate
        person(501, { email: 'not-an-email' }), // invalid
      ];
      // The E1 row above duplicates row 1: drop row 1 so the file stays free of duplicates.
      rows.shift();
      const path = writeCsvDrop(rows);

      const p = planDeps(t.h);
      const plan = await planDrop(p.deps, { path });
      await p.close();
      expect(plan).toMatchObject({
        rows: rows.length,
        status: 'planned',
        plan: { create: 60, update: 40 + 1, unchanged: 39 + 1, deactivate: 10, invalid: 1, conflict: 0 },
      });
      expect(await identityWrites(t.sim)).toBe(0);
      expect(await queuedJobs()).toBe(0);
      expect((await simUsers(t.sim)).every((u) => u.active)).toBe(true);

      const planned = new Map<number, PlannedRow>();
      for await (const r of t.h.ledger.iteratePlanRows<PlannedRow>(plan.dropId)) planned.set(r.row, r);
      expect(planned.size).toBe(rows.length);
      const renamed = [...planned.values()].find((r) => r.employeeNumber === 'E41');
      expect(renamed).toMatchObject({
        action: 'update',
        changes: [{ field: 'department', old: 'Engineering', new: 'Finance' }],
      });
      const e1 = [...planned.values()].find((r) => r.employeeNumber === 'E1');
      const e99 = (await simUsers(t.sim)).find((u) => u[ENT].employeeNumber === 'E99');
      expect(e1).toMatchObject({ action: 'update', changes: [{ field: 'manager.value', new: e99?.id }] });

      // Run it for real from the ledger: the file is gone, approve needs only the drop id.
      rmSync(path);
      const approved = await approveDrop({ ledger: t.h.ledger, identityQueue: t.h.queues.identity }, plan.dropId);
      expect(approved).toMatchObject({ previous: 'planned', status: 'running', rows: rows.length - 1 });
      t.h.startIdentityWorker({ concurrency: 4 });
      await waitForComplete(t.h.ledger, plan.dropId);

      const outcomes = await t.h.ledger.getRows(plan.dropId, [...planned.keys()]);
      expect(outcomes).toHaveLength(rows.length);
      for (const o of outcomes) {
        const want = planned.get(o.row)!.action;
        const did = o.state === 'invalid' ? 'invalid' : o.outcome.action === 'none' ? 'unchanged' : o.outcome.action;
        expect({ row: o.row, action: did }).toEqual({ row: o.row, action: want });
      }
      const users = await simUsers(t.sim);
      expect(
        users
          .filter((u) => !u.active)
          .map((u) => u[ENT].employeeNumber)
          .sort(),
      ).toEqual(leaving.map((r) => r.employeeNumber).sort());
    },
  );
});

describe('deactivation threshold', () => {
  /** 100 rows: 30 deactivate seeded people, 70 are new. */
  async function heldDrop(tag: string): Promise<{ path: string; leaving: DropRecord[] }> {
    const leaving = Array.from({ length: 30 }, (_, i) => person(i + 1));
    await seed(t.sim, leaving);
    const rows = [
      ...leaving.map((r) => ({ ...r, active: 'false' })),
      ...Array.from({ length: 70 }, (_, i) => person(i + 1001, { title: tag })),
    ];
    return { path: writeCsvDrop(rows), leaving };
  }

  it('holds a drop that would deactivate 30% and sends nothing until it is approved', { timeout: 60_000 }, async () => {
    const { path, leaving } = await heldDrop('approve');
    const result = await ingestDrop(ingestDeps(), { path });
    expect(result).toMatchObject({ status: 'held', rows: 100, jobs: 0 });
    expect(result.reason).toMatch(/30 of 100 rows \(30%\) deactivate people, more than MAX_DEACTIVATION_PERCENT=20%/);
    const view = await t.h.ledger.getDrop(result.dropId);
    expect(dropProgress(view!)).toMatchObject({ status: 'held', reason: result.reason });

    // A worker is up, and a stray job for the drop finds it held: nothing is sent.
    t.h.startIdentityWorker();
    await t.h.queues.identity.add('identity', { dropId: result.dropId, rows: [1, 2, 3] }, { jobId: 'stray' });
    await until('the stray job', async () => (await queuedJobs()) === 0);
    expect(await identityWrites(t.sim)).toBe(0);
    expect((await t.h.ledger.getDrop(result.dropId))?.counts.pending).toBe(100);
    expect((await simUsers(t.sim)).filter((u) => !u.active)).toHaveLength(0);

    // Ingesting the same file again does not release it.
    expect(await ingestDrop(ingestDeps(), { path })).toMatchObject({ existed: true, status: 'held' });

    const approved = await approveDrop({ ledger: t.h.ledger, identityQueue: t.h.queues.identity }, result.dropId);
    expect(approved).toMatchObject({ previous: 'held', status: 'running', rows: 100 });
    await waitForComplete(t.h.ledger, result.dropId);
    const users = await simUsers(t.sim);
    expect(
      users
        .filter((u) => !u.active)
        .map((u) => u[ENT].employeeNumber)
        .sort(),
    ).toEqual(leaving.map((r) => r.employeeNumber).sort());
    expect(users).toHaveLength(100);
  });

  it('cancel ends a held drop: no deactivation is sent and every row ends cancelled', async () => {
    const { path } = await heldDrop('cancel');
    const result = await ingestDrop(ingestDeps(), { path });
    expect(result.status).toBe('held');
    t.h.startIdentityWorker();

    const cancelled = await cancelDrop({ ledger: t.h.ledger, identityQueue: t.h.queues.identity }, result.dropId);
    expect(cancelled).toMatchObject({ previous: 'held', status: 'cancelled', cancelled: 100 });
    const view = await t.h.ledger.getDrop(result.dropId);
    expect(view?.meta.status).toBe('cancelled');
    expect(view?.counts).toMatchObject({ cancelled: 100, pending: 0 });
    expect(view?.terminal).toBe(100);
    const [row] = await t.h.ledger.getRows(result.dropId, [1]);
    expect(row).toMatchObject({
      state: 'cancelled',
      outcome: { error: 'drop cancelled by the operator', userName: 'person1@example.com' },
    });

    // A cancelled drop cannot be approved; a second cancel changes nothing.
    await expect(
      approveDrop({ ledger: t.h.ledger, identityQueue: t.h.queues.identity }, result.dropId),
    ).rejects.toMatchObject({ code: 'PROV_ERR_LEDGER' });
    expect(
      (await cancelDrop({ ledger: t.h.ledger, identityQueue: t.h.queues.identity }, result.dropId)).cancelled,
    ).toBe(0);
    expect(await queuedJobs()).toBe(0);
    expect(await identityWrites(t.sim)).toBe(0);
    expect((await simUsers(t.sim)).every((u) => u.active)).toBe(true);
  });

  it('a plan says the drop would be held; running the planned drop holds it', async () => {
    const { path } = await heldDrop('plan');
    const p = planDeps(t.h);
    const plan = await planDrop({ ...p.deps, guards: ingestDeps().guards }, { path });
    await p.close();
    expect(plan.plan).toMatchObject({ deactivate: 30, create: 70 });
    expect(plan.hold).toMatch(/MAX_DEACTIVATION_PERCENT/);
    expect(await ingestDrop(ingestDeps(), { path })).toMatchObject({ dropId: plan.dropId, status: 'held', jobs: 0 });
    expect(await queuedJobs()).toBe(0);
  });
});

describe('completeness', () => {
  it('rejects a truncated file whose manifest names more rows, with both counts, before anything is sent', async () => {
    const rows = Array.from({ length: 100 }, (_, i) => person(i + 1));
    const full = writeCsvDrop(rows);
    const text = readFileSync(full, 'utf8');
    const lines = text.split('\n');
    // The transfer stopped after 60 rows.
    writeFileSync(full, `${lines.slice(0, 61).join('\n')}\n`);
    writeFileSync(`${full}.manifest.json`, JSON.stringify({ rows: 100 }));

    const err = await ingestDrop(ingestDeps(), { path: full }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'PROV_ERR_INPUT', details: { expected: { rows: 100 }, actual: { rows: 60 } } });
    expect((err as Error).message).toMatch(
      /the manifest expects 100 rows, the file has 60 \(truncated\?\); nothing was sent/,
    );
    const ids = await t.h.ledger.listDrops();
    expect(ids).toHaveLength(1);
    const view = await t.h.ledger.getDrop(ids[0]!);
    expect(view?.meta).toMatchObject({ status: 'rejected', reason: (err as Error).message });
    expect(view?.counts.pending).toBe(0);
    expect(await queuedJobs()).toBe(0);

    // A checksum mismatch is caught before the file is even parsed.
    const sha = createHash('sha256').update(text).digest('hex');
    writeFileSync(`${full}.manifest.json`, JSON.stringify({ rows: 100, sha256: sha }));
    await expect(ingestDrop(ingestDeps(), { path: full })).rejects.toThrow(
      new RegExp(`expects sha256 ${sha}, the file has [0-9a-f]{64}`),
    );

    // The same bytes with a manifest that matches them: the rejected drop is read again and runs.
    const actualSha = createHash('sha256').update(readFileSync(full)).digest('hex');
    const ok = await ingestDrop(ingestDeps(), { path: full, expect: { rows: 60, sha256: actualSha } });
    expect(ok).toMatchObject({ dropId: ids[0], status: 'running', rows: 60, jobs: 2 });
  });
});

describe('mass-failure brake', () => {
  it(
    'pauses a drop whose creates Concur rejects after the threshold, not after every row; approve resumes it',
    { timeout: 120_000 },
    async () => {
      const rows = Array.from({ length: 400 }, (_, i) => person(i + 1));
      const path = writeCsvDrop(rows);
      const result = await ingestDrop(ingestDeps(), { path });
      // A wrong company in the create bodies: Concur answers 400 to every create.
      const wrong = t.h.startIdentityWorker({ concurrency: 2, companyId: '00000000-0000-4000-8000-000000000000' });
      await until('the pause', async () => (await t.h.ledger.dropStatus(result.dropId)) === 'paused');
      await until('in-flight jobs', async () => (await t.h.queues.identity.getActiveCount()) === 0);
      await wrong.close();

      const view = await t.h.ledger.getDrop(result.dropId);
      expect(view?.meta.reason).toMatch(/rows sent failed \(\d+%, more than MAX_FAILURE_PERCENT=50%\)/);
      const failed = view!.counts.identity_failed!;
      expect(failed).toBeGreaterThanOrEqual(20);
      // At most one more failure per job in flight after the threshold.
      expect(failed).toBeLessThanOrEqual(20 + 2);
      expect(view!.counts.pending).toBe(400 - failed);
      const [first] = await t.h.ledger.getRows(result.dropId, [1]);
      expect(first).toMatchObject({ state: 'identity_failed', outcome: { code: 'PROV_ERR_INVALID' } });
      expect(String(first?.outcome.error)).toMatch(/companyId/);
      expect(await simUsers(t.sim)).toHaveLength(0);

      // Mapping fixed: approve re-enqueues the waiting rows and the brake counts afresh.
      t.h.startIdentityWorker({ concurrency: 4 });
      const approved = await approveDrop({ ledger: t.h.ledger, identityQueue: t.h.queues.identity }, result.dropId);
      expect(approved).toMatchObject({ previous: 'paused', status: 'running', rows: 400 - failed });
      await waitForComplete(t.h.ledger, result.dropId);
      expect((await t.h.ledger.getDrop(result.dropId))?.counts).toMatchObject({
        done: 400 - failed,
        identity_failed: failed,
      });
      expect(await simUsers(t.sim)).toHaveLength(400 - failed);
    },
  );
});
