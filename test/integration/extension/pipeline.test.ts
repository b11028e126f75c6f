import { afterEach, describe, expect, it } from 'vitest';
import {
  toExtensionPayload,
  SPEND_APPROVER_URN,
  SPEND_USER_URN,
  TRAVEL_USER_URN,
} from '../../../src/shared/mapping/to-scim.ts';
import type { TemplateRow } from '../../../src/shared/mapping/types.ts';
import { extensionRow, startStage, type StageHarness } from '../../helpers/extension-stage.ts';

interface SimState {
  users: (Record<string, unknown> & { id: string; userName: string })[];
}
interface SimStats {
  routes: Record<string, Record<string, number>>;
}

const BULK_ROUTE = 'POST /profile/v4/Bulk';
const routeCount = (stats: SimStats, route: string): number =>
  Object.values(stats.routes[route] ?? {}).reduce((a, b) => a + b, 0);

let stage: StageHarness | undefined;
afterEach(async () => {
  await stage?.close();
  stage = undefined;
});

async function seed(
  h: StageHarness,
  dropId: string,
  rows: TemplateRow[],
  uuidFor?: (row: TemplateRow, uuid: string) => string,
): Promise<string[]> {
  const uuids = await h.createUsers(rows.map((r) => ({ userName: r.userName, employeeNumber: r.employeeNumber })));
  await h.seedDrop(dropId, rows, uuidFor ? rows.map((r, i) => uuidFor(r, uuids[i]!)) : uuids);
  return uuids;
}

async function handOff(h: StageHarness, dropId: string, rows: number[]): Promise<void> {
  // As the identity worker does: one call per identity job of up to 50 rows.
  for (let i = 0; i < rows.length; i += 50) await h.handoff.ready(dropId, rows.slice(i, i + 50));
}

describe('extension and status stages against the simulator', () => {
  it('stores every extension exactly as sent, in about ceil(rows / 100) Bulk calls', async () => {
    // A linger longer than the hand-off takes, so a loaded machine cannot cut partial batches.
    stage = await startStage({ env: { EXTENSION_LINGER_MS: '2000' } });
    const h = stage;
    const rows = Array.from({ length: 2_500 }, (_, i) => extensionRow(i + 1));
    await seed(h, 'dropbig', rows);
    h.startWorkers();
    await handOff(
      h,
      'dropbig',
      rows.map((r) => r.rowNumber),
    );
    await h.waitComplete('dropbig', 120_000);

    const view = await h.ledger.getDrop('dropbig');
    expect(view?.counts.done).toBe(2_500);
    const state = await h.simJson<SimState>('/_sim/state');
    const byName = new Map(state.users.map((u) => [u.userName, u]));
    for (const row of rows) {
      const user = byName.get(row.userName);
      const sent = toExtensionPayload(row)!;
      for (const [urn, value] of Object.entries(sent)) expect(user?.[urn], `${row.userName} ${urn}`).toEqual(value);
    }
    const stats = await h.simJson<SimStats>('/_sim/stats');
    const bulks = routeCount(stats, BULK_ROUTE);
    expect(bulks).toBeGreaterThanOrEqual(25);
    expect(bulks).toBeLessThanOrEqual(28);
    const [sample] = await h.ledger.getRows('dropbig', [1234]);
    expect(sample?.outcome.provisionId).toMatch(/[0-9a-f-]{36}/);
  }, 180_000);

  it("ends rows Concur rejects as extension_failed with Concur's messages, and splits a Bulk rejected as a whole", async () => {
    stage = await startStage();
    const h = stage;
    const rows = [
      extensionRow(1),
      extensionRow(2),
      extensionRow(3, { spend: { ...extensionRow(3).spend, reportApproverEmployeeNumber: 'E999' } }),
      extensionRow(4, { spend: { ...extensionRow(4).spend, customData: { custom3: 'CC999' } } }),
      extensionRow(5, { spend: { ledgerCode: 'DEFAULT', roles: ['EXP_USER'] } }),
      extensionRow(6),
    ];
    // Row 6's uuid breaks the Bulk path: Concur refuses the whole request until it is alone.
    await seed(h, 'droperr', rows, (r, uuid) => (r.rowNumber === 6 ? 'not/a-uuid' : uuid));
    h.startWorkers();
    await handOff(h, 'droperr', [1, 2, 3, 4, 5, 6]);
    await h.waitComplete('droperr');

    const got = new Map((await h.ledger.getRows('droperr', [1, 2, 3, 4, 5, 6])).map((r) => [r.row, r]));
    expect(got.get(1)?.state).toBe('done');
    expect(got.get(2)?.state).toBe('done');

    const approver = got.get(3)!;
    expect(approver.state).toBe('extension_failed');
    expect(approver.outcome.error).toContain('Employee does not exist');
    expect(JSON.stringify(approver.outcome.extensions)).toContain(SPEND_APPROVER_URN);
    expect(approver.outcome.code).toBe('INVALID_USER');

    const list = got.get(4)!;
    expect(list.state).toBe('extension_failed');
    expect(list.outcome.error).toContain('Invalid List Item');
    expect(JSON.stringify(list.outcome.extensions)).toContain('customData[id eq \\"custom3\\"].value');

    const missing = got.get(5)!;
    expect(missing.state).toBe('extension_failed');
    for (const field of ['country', 'locale', 'reimbursementCurrency'])
      expect(missing.outcome.error).toContain(`${SPEND_USER_URN}:${field}`);

    const whole = got.get(6)!;
    expect(whole.state).toBe('extension_failed');
    expect(whole.outcome.error).toMatch(/answered 400/);
    // The failed records stay in the ledger for replay.
    expect(whole.data).toBeDefined();
  }, 60_000);

  it('times rows out when Concur keeps the provision pending past the deadline', async () => {
    stage = await startStage({ knobs: { processExtensions: false }, env: { STATUS_DEADLINE_MS: '1500' } });
    const h = stage;
    const rows = [extensionRow(1), extensionRow(2), extensionRow(3)];
    await seed(h, 'droptime', rows);
    h.startWorkers();
    await handOff(h, 'droptime', [1, 2, 3]);
    await h.waitComplete('droptime');
    const got = await h.ledger.getRows('droptime', [1, 2, 3]);
    expect(got.map((r) => r.state)).toEqual(['timed_out', 'timed_out', 'timed_out']);
    expect(got[0]?.outcome.error).toMatch(/No final status/);
    expect(got[0]?.outcome.provisionId).toBeDefined();
    const state = await h.simJson<SimState>('/_sim/state');
    expect(state.users.every((u) => u[TRAVEL_USER_URN] === undefined)).toBe(true);
  }, 60_000);

  it('sends nothing for a paused drop: its rows wait at identity_done, and go once the drop runs again', async () => {
    stage = await startStage();
    const h = stage;
    const rows = [extensionRow(1), extensionRow(2), extensionRow(3)];
    await seed(h, 'droppause', rows);
    // As the failure brake does mid-drop.
    expect((await h.ledger.setStatusIf('droppause', ['running', 'ingesting'], 'paused')).changed).toBe(true);
    h.startWorkers();
    await handOff(h, 'droppause', [1, 2, 3]);
    await waitFor(async () =>
      (await h.ledger.getRows('droppause', [1, 2, 3])).every(
        (r) => r.state === 'identity_done' && r.outcome.batchId !== undefined,
      ),
    );
    expect(routeCount(await h.simJson<SimStats>('/_sim/stats'), BULK_ROUTE)).toBe(0);

    // `provision approve`: the drop runs and the identity stage hands the rows off again.
    expect((await h.ledger.releaseDrop('droppause', ['paused'])).changed).toBe(true);
    await handOff(h, 'droppause', [1, 2, 3]);
    await h.waitComplete('droppause');
    expect((await h.ledger.getDrop('droppause'))?.counts.done).toBe(3);
    const state = await h.simJson<SimState>('/_sim/state');
    const user = state.users.find((u) => u.userName === rows[0]!.userName);
    expect(user?.[SPEND_USER_URN]).toEqual(toExtensionPayload(rows[0]!)![SPEND_USER_URN]);
  }, 60_000);
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}
