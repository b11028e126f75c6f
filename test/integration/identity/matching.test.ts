import { describe, expect, it } from 'vitest';
import { ingestDrop } from '../../../src/producers/ingest.ts';
import { createLogger } from '../../../src/shared/logger.ts';
import { person, writeCsvDrop, type DropRecord } from '../../helpers/drops.ts';
import { pipelineHarness, simulatorPipeline, waitForComplete } from '../../helpers/pipeline.ts';
import { ENT, identityWrites, seedPeople, simStats, simUsers, type SimUser } from '../../helpers/sim-data.ts';

const log = createLogger({ level: 'silent' });

// The conflict guard is tested on its own below; here every conflict is just a failed row.
const t = simulatorPipeline({ MAX_CONFLICT_PERCENT: '100' });

/** Concur's people as full resources keyed by uuid (meta.version included: any write shows). */
async function snapshot(): Promise<Map<string, string>> {
  return new Map((await simUsers(t.sim)).map((u) => [u.id, JSON.stringify(u)]));
}

async function run(rows: DropRecord[]) {
  const result = await ingestDrop(
    { ledger: t.h.ledger, identityQueue: t.h.queues.identity, log },
    { path: writeCsvDrop(rows) },
  );
  t.h.startIdentityWorker();
  await waitForComplete(t.h.ledger, result.dropId);
  const got = await t.h.ledger.getRows(
    result.dropId,
    rows.map((_, i) => i + 1),
  );
  return got.map((r) => ({ state: r.state, code: r.outcome.code, error: r.outcome.error }));
}

const byEmployee = (users: SimUser[]) => new Map(users.map((u) => [u[ENT].employeeNumber, u]));

describe('matching policy against the simulator: two people are never merged', () => {
  it('a recycled login, a rehire with a new number and two people swapping logins change nobody', async () => {
    await seedPeople(t.sim, [
      person(1, { userName: 'jsmith@example.com', employeeNumber: 'OLD-1001', active: 'false' }),
      person(2, { userName: 'jdoe@example.com', employeeNumber: 'E-100', active: 'false' }),
      person(3, { userName: 'ann@example.com', employeeNumber: 'E3' }),
      person(4, { userName: 'bob@example.com', employeeNumber: 'E4' }),
    ]);
    const before = await snapshot();

    const outcomes = await run([
      // A new John Smith reuses the former employee's login.
      person(10, { userName: 'jsmith@example.com', employeeNumber: 'NEW-2002', givenName: 'John' }),
      // Jane Doe is rehired under a new number, same login, no explicit change.
      person(11, { userName: 'jdoe@example.com', employeeNumber: 'E-900', givenName: 'Jane' }),
      // Ann and Bob swap logins.
      person(12, { userName: 'bob@example.com', employeeNumber: 'E3' }),
      person(13, { userName: 'ann@example.com', employeeNumber: 'E4' }),
    ]);

    expect(outcomes.map((o) => [o.state, o.code])).toEqual(
      Array.from({ length: 4 }, () => ['identity_failed', 'PROV_ERR_IDENTITY_CONFLICT']),
    );
    expect(outcomes[0]?.error).toMatch(
      /employeeNumber OLD-1001, inactive\).*no Concur person has employeeNumber NEW-2002/,
    );
    expect(outcomes[1]?.error).toMatch(/employeeNumber E-100, inactive\).*no Concur person has employeeNumber E-900/);
    expect(outcomes[2]?.error).toMatch(
      /belongs to Concur user \S+ \(employeeNumber E4\), but the row is Concur user \S+ \(employeeNumber E3\)/,
    );
    expect(outcomes[3]?.error).toMatch(/\(employeeNumber E3\), but the row is .*\(employeeNumber E4\)/);
    // Nobody was changed and nobody was created: the look-ups were the only calls.
    expect(await snapshot()).toEqual(before);
    expect(identityWrites(await simStats(t.sim))).toBe(0);
  });

  it('explicit changes: a rehire keeps the old profile, a login changes, each only through its previous column', async () => {
    await seedPeople(t.sim, [
      person(1, { userName: 'jdoe@example.com', employeeNumber: 'E-100', active: 'false' }),
      person(2, { userName: 'old.ann@example.com', employeeNumber: 'E3' }),
    ]);
    const ids = byEmployee(await simUsers(t.sim));

    const outcomes = await run([
      person(11, {
        userName: 'jdoe@example.com',
        employeeNumber: 'E-900',
        previousEmployeeNumber: 'E-100',
        active: 'true',
      }),
      person(12, { userName: 'ann@example.com', employeeNumber: 'E3', previousUserName: 'old.ann@example.com' }),
    ]);

    expect(outcomes.map((o) => o.state)).toEqual(['done', 'done']);
    const after = await simUsers(t.sim);
    expect(after).toHaveLength(2);
    const now = byEmployee(after);
    expect(now.get('E-900')?.id).toBe(ids.get('E-100')?.id);
    expect(now.get('E-900')?.active).toBe(true);
    expect(now.has('E-100')).toBe(false);
    expect(now.get('E3')?.id).toBe(ids.get('E3')?.id);
    expect(now.get('E3')?.userName).toBe('ann@example.com');
  });

  it('the same explicit change run again changes nothing more', async () => {
    await seedPeople(t.sim, [person(1, { userName: 'jdoe@example.com', employeeNumber: 'E-100' })]);
    const row = person(1, { userName: 'jdoe@example.com', employeeNumber: 'E-900', previousEmployeeNumber: 'E-100' });
    expect((await run([row])).map((o) => o.state)).toEqual(['done']);
    const afterFirst = await snapshot();
    const again = await ingestDrop(
      { ledger: t.h.ledger, identityQueue: t.h.queues.identity, log },
      { path: writeCsvDrop([row]), force: true },
    );
    await waitForComplete(t.h.ledger, again.dropId);
    expect((await t.h.ledger.getRows(again.dropId, [1]))[0]?.state).toBe('unchanged');
    expect(await snapshot()).toEqual(afterFirst);
  });
});

describe('conflict guard', () => {
  it('pauses a running drop once it has more conflicts than MAX_CONFLICTS', async () => {
    const h = pipelineHarness(t.sim.baseUrl, { MAX_CONFLICTS: '2', MAX_CONFLICT_PERCENT: '100' });
    try {
      await seedPeople(
        t.sim,
        Array.from({ length: 6 }, (_, i) => person(i + 1)),
      );
      // Every row carries someone else's login: a file keyed wrongly.
      const rows = Array.from({ length: 6 }, (_, i) =>
        person(i + 1, { userName: `person${((i + 1) % 6) + 1}@example.com` }),
      );
      const before = await snapshot();
      const result = await ingestDrop(
        { ledger: h.ledger, identityQueue: h.queues.identity, log },
        { path: writeCsvDrop(rows) },
      );
      h.startIdentityWorker({ concurrency: 1 });
      const deadline = Date.now() + 30_000;
      while ((await h.ledger.dropStatus(result.dropId)) !== 'paused' && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      const view = await h.ledger.getDrop(result.dropId);
      expect(view?.meta.status).toBe('paused');
      expect(view?.meta.reason).toMatch(/^3 rows conflict with other Concur people .* MAX_CONFLICTS=2/);
      expect(view?.counts.identity_failed).toBe(3);
      expect(await snapshot()).toEqual(before);
    } finally {
      await h.close();
    }
  });
});
