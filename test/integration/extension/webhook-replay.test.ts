import { generateKeyPairSync, sign } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ConcurHttp } from '../../../src/shared/concur/http.ts';
import { subscribeWebhook } from '../../../src/shared/concur/events.ts';
import { createLogger } from '../../../src/shared/logger.ts';
import { SPEND_APPROVER_URN } from '../../../src/shared/mapping/to-scim.ts';
import { replayDrop } from '../../../src/producers/replay.ts';
import { buildWebhookApp, WEBHOOK_PATH } from '../../../src/server/webhook.ts';
import { extensionRow, startStage, type StageHarness } from '../../helpers/extension-stage.ts';

const STATUS_ROUTE = 'GET /profile/v4/provisions/:id/status';
const BULK_ROUTE = 'POST /profile/v4/Bulk';
const log = createLogger({ level: 'silent' });
const count = (stats: { routes: Record<string, Record<string, number>> }, route: string): number =>
  Object.values(stats.routes[route] ?? {}).reduce((a, b) => a + b, 0);

let stage: StageHarness | undefined;
let app: FastifyInstance | undefined;
const http = new ConcurHttp();
afterEach(async () => {
  await app?.close();
  app = undefined;
  await stage?.close();
  stage = undefined;
});
afterAll(() => http.close());

describe('provisionCompleted webhook', () => {
  it('settles the drop without waiting out the poll delay, with about one status call per provision', async () => {
    // A first check ten minutes out: only the events can finish this drop within the test.
    stage = await startStage({ env: { STATUS_FIRST_DELAY_MS: '600000', STATUS_MAX_DELAY_MS: '600000' } });
    const h = stage;
    const publicKeyPem = await (await fetch(`${h.sim.baseUrl}/_sim/public-key`)).text();
    app = await buildWebhookApp({ store: h.store, statusQueue: h.queues.status, publicKeyPem, log });
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    const tenant = h.sim.sim.ctx.tenant;
    const message = await subscribeWebhook(
      { http, baseUrl: h.sim.baseUrl, clientId: tenant.clientId, clientSecret: tenant.clientSecret },
      { id: 'prov-test.webhook', endpoint: `${url}${WEBHOOK_PATH}` },
    );
    expect(message).toContain('prov-test.webhook');

    const rows = Array.from({ length: 300 }, (_, i) => extensionRow(i + 1));
    const uuids = await h.createUsers(rows.map((r) => ({ userName: r.userName, employeeNumber: r.employeeNumber })));
    await h.seedDrop('drophook', rows, uuids);
    h.startWorkers();
    for (let i = 0; i < rows.length; i += 50)
      await h.handoff.ready(
        'drophook',
        rows.slice(i, i + 50).map((r) => r.rowNumber),
      );
    await h.waitComplete('drophook', 30_000);

    expect((await h.ledger.getDrop('drophook'))?.counts.done).toBe(300);
    const stats = await h.simJson<{ routes: Record<string, Record<string, number>> }>('/_sim/stats');
    const provisions = count(stats, BULK_ROUTE);
    expect(provisions).toBeGreaterThanOrEqual(3);
    expect(count(stats, STATUS_ROUTE)).toBeGreaterThanOrEqual(provisions);
    expect(count(stats, STATUS_ROUTE)).toBeLessThanOrEqual(provisions + 1);
  }, 60_000);

  it('rejects a forged or missing signature with 401', async () => {
    stage = await startStage();
    const h = stage;
    const publicKeyPem = await (await fetch(`${h.sim.baseUrl}/_sim/public-key`)).text();
    app = await buildWebhookApp({ store: h.store, statusQueue: h.queues.status, publicKeyPem, log });
    const body = JSON.stringify({ id: 'evt-1', eventType: 'provisionCompleted', facts: { provisionId: 'p-1' } });
    const forger = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const forged = sign('sha256', Buffer.from(body), forger.privateKey).toString('base64');
    const post = (headers: Record<string, string>) =>
      app!.inject({
        method: 'POST',
        url: WEBHOOK_PATH,
        payload: body,
        headers: { 'content-type': 'application/json', ...headers },
      });

    expect((await post({ 'concur-signature': forged })).statusCode).toBe(401);
    expect((await post({})).statusCode).toBe(401);
    // Nothing was recorded for the forged event: the provision stays unknown.
    expect(await h.store.takeEarlyEvent('p-1')).toBe(false);
  });
});

describe('replay', () => {
  it('re-runs a fixed failure in a new drop linked to its parent', async () => {
    stage = await startStage();
    const h = stage;
    const rows = [
      extensionRow(1),
      extensionRow(2, { spend: { ...extensionRow(2).spend, reportApproverEmployeeNumber: 'E777' } }),
    ];
    const uuids = await h.createUsers(rows.map((r) => ({ userName: r.userName, employeeNumber: r.employeeNumber })));
    await h.seedDrop('dropfix', rows, uuids);
    h.startWorkers();
    await h.handoff.ready('dropfix', [1, 2]);
    await h.waitComplete('dropfix');
    const [failed] = await h.ledger.getRows('dropfix', [2]);
    expect(failed?.state).toBe('extension_failed');

    // The finished drop is compacted (as an identity worker does): replay reads its pages.
    expect((await h.ledger.compactDrop('dropfix')).rows).toBe(2);
    // The operator fixes the cause in Concur: the approver now exists.
    await h.createUsers([{ userName: 'approver777@example.com', employeeNumber: 'E777' }]);
    const replay = await replayDrop({
      ledger: h.ledger,
      queues: h.queues,
      dropId: 'dropfix',
      states: ['extension_failed'],
    });
    expect(replay.rows).toBe(1);
    const child = replay.dropId!;
    const view = await h.ledger.getDrop(child);
    expect(view?.meta.parentDropId).toBe('dropfix');
    expect((await h.ledger.getDrop('dropfix'))?.meta).toMatchObject({ replayDropId: child });
    const [row] = await h.ledger.getRows<{ userName: string }>(child, [1]);
    expect(row).toMatchObject({ state: 'pending', outcome: { parentRow: 2 }, data: { userName: 'user2@example.com' } });
    const jobs = await h.queues.identity.getJobs(['waiting']);
    expect(jobs.map((j) => j.data)).toEqual([{ dropId: child, rows: [1] }]);

    // The identity stage (another worker) finds the user and hands the row on.
    await h.ledger.transition(child, 1, 'identity_done', { patch: { uuid: uuids[1]!, action: 'unchanged' } });
    await h.handoff.ready(child, [1]);
    await h.waitComplete(child);
    const [ok] = await h.ledger.getRows(child, [1]);
    expect(ok?.state).toBe('done');
    const state = await h.simJson<{ users: Record<string, unknown>[] }>('/_sim/state');
    const user = state.users.find((u) => u.userName === 'user2@example.com');
    expect(user?.[SPEND_APPROVER_URN]).toEqual({ report: [{ approver: { employeeNumber: 'E777' }, primary: true }] });
  }, 60_000);
});
