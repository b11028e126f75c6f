import { describe, expect, it } from 'vitest';
import { ingestDrop } from '../../../src/producers/ingest.ts';
import { DEFAULT_RETRY } from '../../../src/shared/concur/retry.ts';
import { ProvError } from '../../../src/shared/errors.ts';
import { createLogger } from '../../../src/shared/logger.ts';
import { createIdentityProcessor } from '../../../src/workers/identity/processor.ts';
import { person, writeCsvDrop, type DropRecord } from '../../helpers/drops.ts';
import { simulatorPipeline, waitForComplete } from '../../helpers/pipeline.ts';
import { ENT, simStats, simUsers } from '../../helpers/sim-data.ts';

/*
 * The identity stage against a simulator that fails the way Concur does: answers lost after the
 * write was applied, a search that lags behind writes, and userNames held by another company
 * (docs/simulator.md#how-concur-fails). The pipeline stays exact: one Concur user per person, no
 * row failed for Concur's unreliability, the person who truly cannot be created named as such.
 */

const log = createLogger({ level: 'silent' });
const t = simulatorPipeline({ CONFLICT_RESOLVE_MAX_MS: '8000' });

async function run(rows: DropRecord[], timeoutMs = 120_000) {
  const path = writeCsvDrop(rows);
  const result = await ingestDrop({ ledger: t.h.ledger, identityQueue: t.h.queues.identity, log }, { path });
  await waitForComplete(t.h.ledger, result.dropId, timeoutMs);
  return result.dropId;
}

const knobs = (patch: Record<string, unknown>): Promise<void> => t.sim.setKnobs(patch);

describe('identity stage under lost answers and a lagging search', () => {
  it('creates each person once: a lost create answer is found again, never a second user, never a failed row', async () => {
    await knobs({ applyThenFailRate: 0.3, searchLagMs: 1500, seed: 7 });
    const rows = Array.from({ length: 120 }, (_, i) => person(i + 1));
    // Half of them report to someone later in the file: links and waits go through lost answers too.
    for (let i = 0; i < 60; i += 1) rows[i]!.managerEmployeeNumber = `E${i + 61}`;
    t.h.startIdentityWorker({ concurrency: 4 });
    const dropId = await run(rows);

    const view = await t.h.ledger.getDrop(dropId);
    const failedRows = (
      await t.h.ledger.getRows(
        dropId,
        rows.map((_, i) => i + 1),
      )
    ).filter((r) => r.state === 'identity_failed');
    expect(failedRows.map((r) => r.outcome)).toEqual([]);
    expect(view?.counts).toMatchObject({ done: 120, identity_failed: 0 });
    const users = await simUsers(t.sim);
    expect(users).toHaveLength(120);
    expect(new Set(users.map((u) => u.userName.toLowerCase())).size).toBe(120);
    const byNumber = new Map(users.map((u) => [u[ENT].employeeNumber, u]));
    for (let i = 1; i <= 60; i += 1)
      expect(byNumber.get(`E${i}`)?.[ENT].manager?.value, `E${i}`).toBe(byNumber.get(`E${i + 60}`)?.id);

    // The faults really happened: answers were lost and retried creates met their own user.
    const stats = (await (await fetch(`${t.sim.baseUrl}/_sim/stats`)).json()) as {
      faults: { applyThenFail: number };
    };
    expect(stats.faults.applyThenFail).toBeGreaterThan(10);
    const created = (await simStats(t.sim)).routes['POST /profile/identity/v4.1/Users'] ?? {};
    expect(created['409'] ?? 0).toBeGreaterThan(0);
  });

  it('confirms by id what it wrote moments ago: a lagging search never hides its own update', async () => {
    const someone = person(1, { title: 'Analyst' });
    t.h.startIdentityWorker({ concurrency: 1 });
    // (A cost center only here: drop files of the same content are the same drop.)
    await run([{ ...someone, costCenter: 'CC100' }]);
    await knobs({ searchLagMs: 60_000 });
    // First drop: Analyst -> Manager. The search keeps showing "Analyst" for a minute.
    await run([{ ...someone, title: 'Manager' }]);
    // Second drop, seconds later: back to Analyst. Trusting the stale search would say "unchanged".
    const second = await run([{ ...someone, title: 'Analyst' }]);
    const [user] = await simUsers(t.sim);
    expect((user as unknown as { title?: string }).title).toBe('Analyst');
    const rows = await t.h.ledger.getRows(second, [1]);
    expect(rows[0]?.outcome).toMatchObject({ action: 'update' });
  });
});

describe('a userName held by another company', () => {
  it('ends the row identity_failed with PROV_ERR_USERNAME_TAKEN and what to do; the other rows go on', async () => {
    await knobs({ foreignUserNames: ['person2@example.com'], searchLagMs: 300 });
    t.h.startIdentityWorker({ concurrency: 2 });
    const dropId = await run([person(1), person(2), person(3)]);
    const view = await t.h.ledger.getDrop(dropId);
    expect(view?.counts).toMatchObject({ done: 2, identity_failed: 1 });
    const [failed] = await t.h.ledger.getRows(dropId, [2]);
    expect(failed?.outcome).toMatchObject({ code: 'PROV_ERR_USERNAME_TAKEN' });
    expect(String(failed?.outcome.error)).toContain('unique across all of SAP Concur');
    expect(String(failed?.outcome.error)).toContain('give the row another userName');
    expect((await simUsers(t.sim)).map((u) => u.userName).sort()).toEqual([
      'person1@example.com',
      'person3@example.com',
    ]);
  });
});

describe("token trouble is never the row's fault", () => {
  it.each([
    ['a second 401 after a renewal', { kind: 'auth', tokenRejected: true, statusCode: 401 }],
    ['every credential refused (code 108)', { kind: 'auth', tokenRefused: true, oauthCode: 108 }],
  ])('%s fails the job, and the rows stay pending for its retry', async (_name, details) => {
    const path = writeCsvDrop([person(1), person(2)]);
    const { dropId } = await ingestDrop({ ledger: t.h.ledger, identityQueue: t.h.queues.identity, log }, { path });
    const refused = new ProvError('PROV_ERR_AUTH', 'token trouble', { details });
    const processor = createIdentityProcessor({
      ledger: t.h.ledger,
      identity: {
        searchPages: () => {
          throw refused;
        },
        create: () => Promise.reject(refused),
        patch: () => Promise.reject(refused),
        get: () => Promise.reject(refused),
      },
      block: async () => 0,
      companyId: t.h.config.CONCUR_COMPANY_ID,
      handoff: { ready: async () => undefined },
      requeue: async () => undefined,
      retry: DEFAULT_RETRY,
      log,
    });
    await expect(processor({ data: { dropId, rows: [1, 2] }, id: 'j1', attemptsMade: 0 })).rejects.toBe(refused);
    const rows = await t.h.ledger.getRows(dropId, [1, 2]);
    expect(rows.map((r) => r.state)).toEqual(['pending', 'pending']);
  });
});
