import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSimulator, type StartedSimulator } from '../../helpers/simulator.ts';
import { ENT, call, userBody } from './http.ts';

const USERS = '/profile/identity/v4.1/Users';
const SPEND = 'urn:ietf:params:scim:schemas:extension:spend:2.0:User';
let s: StartedSimulator;
beforeAll(async () => {
  s = await startSimulator();
});
afterAll(async () => {
  await s.close();
});
beforeEach(async () => {
  await call(s.baseUrl, 'PATCH', '/_sim/config', { body: { latencyMs: 0, errorRate: 0, seed: 1 } });
  await call(s.baseUrl, 'POST', '/_sim/reset');
});

describe('/_sim admin', () => {
  it('GET /_sim/config returns every knob; PATCH changes only the keys sent', async () => {
    const before = (await call(s.baseUrl, 'GET', '/_sim/config')).body;
    for (const k of [
      'latencyMs',
      'jitterMs',
      'identityRps',
      'upsRps',
      'errorRate',
      'hangRate',
      'resetRate',
      'extensionDelayMs',
      'tokenLifetimeS',
      'seed',
    ]) {
      expect(before).toHaveProperty(k);
    }
    const res = await call(s.baseUrl, 'PATCH', '/_sim/config', { body: { jitterMs: 7, tokenLifetimeS: 5 } });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ...before, jitterMs: 7, tokenLifetimeS: 5 });
    expect((await call(s.baseUrl, 'GET', '/_sim/config')).body).toEqual(res.body);
    await call(s.baseUrl, 'PATCH', '/_sim/config', {
      body: { jitterMs: before.jitterMs, tokenLifetimeS: before.tokenLifetimeS },
    });
  });

  it.each([[{ nope: 1 }], [{ errorRate: 2 }], [{ latencyMs: 'x' }], [[1]]])(
    'PATCH /_sim/config %j → 400',
    async (body) => {
      const before = (await call(s.baseUrl, 'GET', '/_sim/config')).body;
      const res = await call(s.baseUrl, 'PATCH', '/_sim/config', { body });
      expect(res.status).toBe(400);
      expect(res.body.status).toBe('400');
      expect((await call(s.baseUrl, 'GET', '/_sim/config')).body).toEqual(before);
    },
  );

  it('GET /_sim/state lists full users with extensions as top-level URN keys, and provisions', async () => {
    const token = await s.companyToken();
    const created = (await call(s.baseUrl, 'POST', USERS, { token, body: userBody(1, { entitlements: ['Expense'] }) }))
      .body;
    s.sim.ctx.users.setExtension(created.id, SPEND, { country: 'US' });
    const state = (await call(s.baseUrl, 'GET', '/_sim/state')).body;
    expect(state.provisions).toEqual([]);
    expect(state.users).toHaveLength(1);
    expect(state.users[0]).toMatchObject({
      id: created.id,
      userName: 'user1@example.com',
      entitlements: ['Expense'],
      [ENT]: { employeeNumber: 'E1' },
      [SPEND]: { country: 'US' },
    });
  });

  it('POST /_sim/reset clears users, tokens, stats and the clock', async () => {
    const token = await s.companyToken();
    await call(s.baseUrl, 'POST', USERS, { token, body: userBody(1) });
    await call(s.baseUrl, 'POST', '/_sim/clock', { body: { advanceMs: 5000 } });
    expect((await call(s.baseUrl, 'POST', '/_sim/reset')).status).toBe(204);
    expect((await call(s.baseUrl, 'GET', '/_sim/state')).body.users).toEqual([]);
    expect((await call(s.baseUrl, 'GET', '/_sim/stats')).body.total).toBe(0);
    expect(s.sim.ctx.clock.offset).toBe(0);
    expect((await call(s.baseUrl, 'GET', USERS, { token })).status).toBe(401);
  });

  it('GET /_sim/stats counts by route pattern and status, not /_sim calls', async () => {
    const token = await s.companyToken();
    await call(s.baseUrl, 'GET', `${USERS}/00000000-0000-4000-8000-000000000000`, { token });
    await call(s.baseUrl, 'POST', USERS, { token, body: userBody(1) });
    const stats = (await call(s.baseUrl, 'GET', '/_sim/stats')).body;
    expect(stats.routes).toEqual({
      'POST /oauth2/v0/token': { '200': 1 },
      [`GET ${USERS}/:id`]: { '404': 1 },
      [`POST ${USERS}`]: { '200': 1 },
    });
    expect(stats.total).toBe(3);
  });

  it('POST /_sim/clock advances the simulated clock; bad bodies are 400', async () => {
    const res = await call(s.baseUrl, 'POST', '/_sim/clock', { body: { advanceMs: 3_600_000 } });
    expect(res.status).toBe(200);
    expect(res.body.offsetMs).toBe(3_600_000);
    expect(Date.parse(res.body.now) - Date.now()).toBeGreaterThan(3_500_000);
    expect((await call(s.baseUrl, 'POST', '/_sim/clock', { body: { advanceMs: -1 } })).status).toBe(400);
  });

  it('PATCH seed reseeds: the same seed replays the same faults', async () => {
    const token = await s.companyToken();
    const sample = async (): Promise<number[]> => {
      await call(s.baseUrl, 'PATCH', '/_sim/config', { body: { errorRate: 0.5, seed: 7 } });
      const out: number[] = [];
      for (let i = 0; i < 12; i++) out.push((await call(s.baseUrl, 'GET', USERS, { token })).status);
      return out;
    };
    expect(await sample()).toEqual(await sample());
  });
});
