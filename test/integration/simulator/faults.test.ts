import { afterEach, describe, expect, it } from 'vitest';
import { startSimulator, type StartedSimulator } from '../../helpers/simulator.ts';
import { call, userBody } from './http.ts';

const USERS = '/profile/identity/v4.1/Users';
let s: StartedSimulator | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
});

async function started(knobs: Record<string, unknown> = {}): Promise<{ sim: StartedSimulator; token: string }> {
  s = await startSimulator();
  const token = await s.companyToken();
  if (Object.keys(knobs).length > 0) {
    const res = await call(s.baseUrl, 'PATCH', '/_sim/config', { body: knobs });
    expect(res.status).toBe(200);
  }
  return { sim: s, token };
}

describe('fault knobs', () => {
  it('latencyMs delays API responses by at least that long, not /_sim', async () => {
    const { sim, token } = await started({ latencyMs: 150 });
    const t0 = performance.now();
    expect((await call(sim.baseUrl, 'GET', USERS, { token })).status).toBe(200);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(145);
  });

  it('latencyByFamily overrides the latency of one family', async () => {
    const { sim } = await started({ latencyByFamily: { oauth: 120 } });
    const t0 = performance.now();
    await sim.companyToken();
    expect(performance.now() - t0).toBeGreaterThanOrEqual(115);
  });

  it('identityRps answers 429 with an integer Retry-After and a SCIM body once the bucket is empty', async () => {
    const { sim, token } = await started({ identityRps: 1, burstSeconds: 1 });
    const results = await Promise.all(Array.from({ length: 5 }, () => call(sim.baseUrl, 'GET', USERS, { token })));
    const limited = results.filter((r) => r.status === 429);
    expect(limited.length).toBeGreaterThanOrEqual(3);
    for (const r of limited) {
      expect(r.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
      expect(r.headers.get('concur-correlationid')).toBeTruthy();
      expect(r.body).toMatchObject({ status: '429' });
    }
    // OAuth is not an identity call: it still answers.
    expect(await sim.companyToken()).toBeTruthy();
    const stats = (await call(sim.baseUrl, 'GET', '/_sim/stats')).body;
    expect(stats.rateLimited).toBe(limited.length);
    expect(stats.routes[`GET ${USERS}`]['429']).toBe(limited.length);
  });

  it('errorRate=1 answers 503 and applies nothing; /_sim is never faulted', async () => {
    const { sim, token } = await started({ errorRate: 1 });
    const res = await call(sim.baseUrl, 'POST', USERS, { token, body: userBody(1) });
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ status: '503' });
    expect(res.headers.get('concur-correlationid')).toBeTruthy();
    const state = await call(sim.baseUrl, 'GET', '/_sim/state');
    expect(state.status).toBe(200);
    expect(state.body.users).toEqual([]);
    expect((await call(sim.baseUrl, 'GET', '/_sim/stats')).body.faults.error).toBe(1);
  });

  it('resetRate=1 resets the connection without an answer', async () => {
    const { sim, token } = await started({ resetRate: 1 });
    const err = await call(sim.baseUrl, 'GET', USERS, { token }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TypeError);
    expect(String((err as { cause?: { code?: string } }).cause?.code)).toMatch(/ECONNRESET|UND_ERR_SOCKET/);
    expect((await call(sim.baseUrl, 'GET', '/_sim/stats')).body.faults.reset).toBe(1);
  });

  it('hangRate=1 never answers (client timeout) and close() still ends the request', async () => {
    const { sim, token } = await started({ hangRate: 1 });
    const err = await fetch(`${sim.baseUrl}${USERS}`, {
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(300),
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((err as Error).name).toBe('TimeoutError');
    const pending = fetch(`${sim.baseUrl}${USERS}`, { headers: { authorization: `Bearer ${token}` } }).then(
      () => 'answered',
      () => 'closed',
    );
    await new Promise((r) => setTimeout(r, 50));
    await sim.close();
    expect(await pending).toBe('closed');
    expect(sim.sim.ctx.stats.toJSON()).toMatchObject({ faults: { hang: 2 } });
  });

  it('the same seed replays the same fault sequence', async () => {
    const run = async (): Promise<number[]> => {
      const sim = await startSimulator({ knobs: { errorRate: 0.5, seed: 42 } });
      try {
        const token = await sim.companyToken().catch(() => '');
        const statuses: number[] = [];
        for (let i = 0; i < 20; i++) statuses.push((await call(sim.baseUrl, 'GET', USERS, { token })).status);
        return statuses;
      } finally {
        await sim.close();
      }
    };
    const a = await run();
    const b = await run();
    expect(a).toEqual(b);
    expect(a).toContain(503);
    expect(a.some((x) => x !== 503)).toBe(true);
  });

  it('every response carries concur-correlationid, including unknown routes', async () => {
    const { sim } = await started();
    const res = await call(sim.baseUrl, 'GET', '/nope');
    expect(res.status).toBe(404);
    expect(res.body.status).toBe('404');
    expect(res.headers.get('concur-correlationid')).toMatch(/^[0-9a-f-]{36}$/);
  });
});
