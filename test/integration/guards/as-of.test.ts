import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ingestDrop } from '../../../src/producers/ingest.ts';
import { DEFAULT_GUARDS } from '../../../src/shared/guards/limits.ts';
import { approveDrop } from '../../../src/shared/guards/drop-control.ts';
import { personAsOfBucket } from '../../../src/shared/identity/as-of.ts';
import { legacyPersonAsOfKey, personAsOfBucketKey } from '../../../src/shared/keys.ts';
import { reportRecords } from '../../../src/shared/ledger/report.ts';
import { person, writeCsvDrop, type DropRecord } from '../../helpers/drops.ts';
import { simulatorPipeline, waitForComplete } from '../../helpers/pipeline.ts';
import { ENT, seed, silent, simUsers, until } from './support.ts';

const DAY = 24 * 3600 * 1000;
const iso = (ms: number): string => new Date(ms).toISOString();

const t = simulatorPipeline({ MAX_DEACTIVATIONS: '5', GUARD_MIN_ROWS: '50', MAX_DEACTIVATION_PERCENT: '20' });

const ingestDeps = () => ({
  ledger: t.h.ledger,
  identityQueue: t.h.queues.identity,
  log: silent,
  guards: { ...DEFAULT_GUARDS, maxDeactivations: 5, maxDeactivationPercent: 20, minRows: 50 },
});

/** A CSV drop, with `FILE.manifest.json` beside it when `manifest` is given. */
function drop(rows: DropRecord[], manifest?: Record<string, unknown>): string {
  const path = writeCsvDrop(rows);
  if (manifest) writeFileSync(`${path}.manifest.json`, JSON.stringify(manifest));
  return path;
}

async function run(path: string, mappingPath?: string): Promise<string> {
  const r = await ingestDrop(ingestDeps(), { path, ...(mappingPath ? { mappingPath } : {}) });
  await waitForComplete(t.h.ledger, r.dropId, 60_000);
  return r.dropId;
}

async function byEmployee(): Promise<Map<string, { active: boolean; department?: string }>> {
  const users = await simUsers(t.sim);
  return new Map(
    users.map((u) => {
      const ent = u[ENT] as { employeeNumber: string; department?: string };
      return [ent.employeeNumber, { active: u.active, department: ent.department }];
    }),
  );
}

describe('an older drop never undoes a newer one', () => {
  it(
    'skips the rows of a drop older than the last one applied to each person (asOf column, manifest, mapping, creation time)',
    { timeout: 120_000 },
    async () => {
      t.h.startIdentityWorker();
      const x = person(1);
      const y = person(2);
      await seed(t.sim, [x, y]);
      const now = Date.now();

      // The newer drop (as of yesterday): X leaves (asOf column), Y moves to Finance (the manifest's asOf).
      const newer = await run(
        drop(
          [
            { ...x, active: 'false', terminationDate: '2026-11-27', asOf: iso(now - DAY) },
            { ...y, department: 'Finance', asOf: '' },
          ],
          { asOf: iso(now - DAY) },
        ),
      );
      expect((await t.h.ledger.getDrop(newer))?.counts).toMatchObject({ done: 2 });
      expect((await byEmployee()).get('E1')).toMatchObject({ active: false });

      // An export of ten days ago arrives after it: it would re-activate X and put Y back in Engineering.
      const older = await run(drop([{ ...x, active: 'true' }, y], { asOf: iso(now - 10 * DAY) }));
      const people = await byEmployee();
      expect(people.get('E1')).toMatchObject({ active: false });
      expect(people.get('E2')).toMatchObject({ active: true, department: 'Finance' });
      const olderView = await t.h.ledger.getDrop(older);
      expect(olderView?.counts.unchanged).toBe(2);
      expect(olderView?.meta.status).toBe('complete');
      const rows = await t.h.ledger.getRows(older, [1, 2]);
      for (const r of rows) {
        expect(r.state).toBe('unchanged');
        expect(r.outcome.action).toBe('older');
        expect(String((r.outcome.warnings as string[])[0])).toContain(
          'older than the last drop applied to this person',
        );
      }
      const report = [];
      for await (const rec of reportRecords(t.h.ledger, older)) report.push(rec);
      expect(report.map((r) => [r.employeeNumber, r.state, r.action])).toEqual([
        ['E1', 'unchanged', 'older'],
        ['E2', 'unchanged', 'older'],
      ]);
      expect(report[0]!.message).toMatch(/row as of .* last applied as of .*: nothing written/);

      // A mapping's constant asOf dates every row of its drops: older still, so skipped too.
      const mapping = join(dirname(drop([y])), 'mapping.json');
      writeFileSync(mapping, JSON.stringify({ constants: { asOf: iso(now - 5 * DAY).slice(0, 10) } }));
      const mapped = await run(drop([{ ...y, department: 'Sales' }]), mapping);
      expect((await t.h.ledger.getRows(mapped, [1]))[0]).toMatchObject({
        state: 'unchanged',
        outcome: { action: 'older' },
      });

      // A drop without any asOf is as of its creation (now): newer, so applied; X comes back.
      const current = await run(
        drop([
          { ...x, active: 'true' },
          { ...y, department: 'Legal' },
        ]),
      );
      expect((await t.h.ledger.getDrop(current))?.counts.done).toBe(2);
      expect((await byEmployee()).get('E1')).toMatchObject({ active: true });
      expect((await byEmployee()).get('E2')).toMatchObject({ department: 'Legal' });

      // Two drops of the same as-of (a replay, a file sent twice): the same time is not older.
      const later = iso(now + 60_000);
      await run(drop([{ ...y, department: 'Ops', asOf: later }]));
      const twin = await run(drop([{ ...y, department: 'Finance', asOf: later }]));
      expect((await t.h.ledger.getRows(twin, [1]))[0]).toMatchObject({ state: 'done', outcome: { action: 'update' } });
      expect((await byEmployee()).get('E2')).toMatchObject({ department: 'Finance' });
    },
  );

  it(
    'keeps each person as a field of a bucket hash, and honours the per-person keys earlier versions wrote',
    { timeout: 60_000 },
    async () => {
      t.h.startIdentityWorker();
      const x = person(1);
      const y = person(2);
      await seed(t.sim, [x, y]);
      const ids = new Map((await simUsers(t.sim)).map((u) => [u[ENT].employeeNumber, u.id]));
      const company = t.h.config.CONCUR_COMPANY_ID;
      // Whole seconds: the manifest's asOf keeps no milliseconds.
      const now = Math.floor(Date.now() / 1000) * 1000;
      // An earlier version applied a drop as of yesterday to X and kept it in X's own key.
      const legacy = legacyPersonAsOfKey(t.h.prefix, company, ids.get('E1')!);
      await t.h.redis.set(legacy, String(now - DAY), 'PX', 30 * DAY);

      const older = await run(
        drop(
          [
            { ...x, department: 'Finance' },
            { ...y, department: 'Finance' },
          ],
          { asOf: iso(now - 2 * DAY) },
        ),
      );
      const [rowX, rowY] = await t.h.ledger.getRows(older, [1, 2]);
      expect(rowX).toMatchObject({ state: 'unchanged', outcome: { action: 'older' } });
      expect(rowY).toMatchObject({ state: 'done', outcome: { action: 'update' } });
      expect((await byEmployee()).get('E1')?.department).not.toBe('Finance');

      // X's old key moved into X's bucket; Y got a field in its own bucket; no key per person is left.
      expect(await t.h.redis.exists(legacy)).toBe(0);
      const field = async (id: string): Promise<string | null> =>
        t.h.redis.hget(personAsOfBucketKey(t.h.prefix, company, personAsOfBucket(id)), id);
      expect(await field(ids.get('E1')!)).toMatch(new RegExp(`^${now - DAY}:\\d+$`));
      expect(await field(ids.get('E2')!)).toMatch(new RegExp(`^${now - 2 * DAY}:\\d+$`));
    },
  );

  it('rejects an asOf in the future or not a date as a row error, naming the column', async () => {
    const r = await ingestDrop(ingestDeps(), {
      path: drop([
        person(1, { asOf: iso(Date.now() + 30 * DAY) }),
        person(2, { asOf: '2026-13-01' }),
        person(3, { asOf: '2026-11-20T08:00:00+01:00' }),
      ]),
    });
    expect(r.invalid).toBe(2);
    const [future, notDate, ok] = await t.h.ledger.getRows(r.dropId, [1, 2, 3]);
    expect(future).toMatchObject({ state: 'invalid', outcome: { code: 'PROV_ERR_INPUT', column: 'asOf' } });
    expect(String(future?.outcome.error)).toMatch(/row 1: asOf: .* is in the future/);
    expect(notDate).toMatchObject({ state: 'invalid', outcome: { column: 'asOf' } });
    expect((ok?.data as { asOf?: number }).asOf).toBe(Date.parse('2026-11-20T07:00:00Z'));
  });
});

describe('re-activations count against the deactivation guard', () => {
  it(
    'holds a drop re-activating more people than MAX_DEACTIVATIONS before the next one is written; approve runs the rest',
    { timeout: 120_000 },
    async () => {
      t.h.startIdentityWorker();
      const former = Array.from({ length: 10 }, (_, i) => person(i + 1, { active: 'false' }));
      await seed(t.sim, former);
      const path = drop(former.map((r) => ({ ...r, active: 'true' })));
      const r = await ingestDrop(ingestDeps(), { path });
      // Ingest cannot see them: nothing deactivates, the drop runs.
      expect(r.status).toBe('running');
      const held = await until('the drop to be held', async () => {
        const v = await t.h.ledger.getDrop(r.dropId);
        return v?.meta.status === 'held' ? v : undefined;
      });
      expect(String(held.meta.reason)).toMatch(/6 rows re-activate and 0 deactivate people .* MAX_DEACTIVATIONS=5/);
      // One identity job, row after row: exactly the five within the limit were re-activated.
      expect([...(await byEmployee()).values()].filter((p) => p.active)).toHaveLength(5);
      expect(held.counts.pending).toBe(5);

      await approveDrop({ ledger: t.h.ledger, identityQueue: t.h.queues.identity }, r.dropId);
      await waitForComplete(t.h.ledger, r.dropId);
      expect((await t.h.ledger.getDrop(r.dropId))?.counts.done).toBe(10);
      expect([...(await byEmployee()).values()].every((p) => p.active)).toBe(true);
    },
  );
});
