/* eslint-disable @typescript-eslint/no-explicit-any -- the tests read JSON bodies loosely */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startSimulator, type StartedSimulator } from '../../helpers/simulator.ts';
import { startTcpProxy, type TcpProxy } from '../../helpers/tcp-proxy.ts';
import { call, ENT, PATCH_OP, SEARCH, userBody } from './http.ts';

/*
 * The ways Concur fails that the simulator reproduces (docs/simulator.md#how-concur-fails), one
 * knob at a time: lost answers, lagging search, userNames of other companies, the request token's
 * lifetime and a company that moved data center.
 */

let s: StartedSimulator;
let token: string;
beforeEach(async () => {
  s = await startSimulator({ knobs: { extensionDelayMs: 0 } });
  token = await s.companyToken();
});
afterEach(async () => {
  await s.close();
});

const knobs = async (patch: Record<string, unknown>): Promise<void> => {
  expect((await call(s.baseUrl, 'PATCH', '/_sim/config', { body: patch })).status).toBe(200);
};
const advance = (advanceMs: number) => call(s.baseUrl, 'POST', '/_sim/clock', { body: { advanceMs } });
const stateUsers = async (): Promise<Record<string, any>[]> => (await call(s.baseUrl, 'GET', '/_sim/state')).body.users;
const searchByUserName = async (userName: string) =>
  (
    await call(s.baseUrl, 'POST', '/profile/identity/v4.1/Users/.search', {
      token,
      body: { schemas: [SEARCH], filter: `userName eq "${userName}"` },
    })
  ).body;

/** fetch that reports a reset connection as status 0 instead of throwing. */
async function send(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  try {
    return await call(s.baseUrl, method, path, { token, ...(body === undefined ? {} : { body }) });
  } catch {
    return { status: 0, body: undefined };
  }
}

describe('applyThenFailRate', () => {
  it('applies identity writes and loses their answers (502, 504 or a reset)', async () => {
    await knobs({ applyThenFailRate: 1 });
    const statuses = new Set<number>();
    const names: string[] = [];
    for (let i = 0; i < 12; i += 1) {
      const body = userBody(`atf${i}`);
      names.push(body.userName as string);
      const res = await send('POST', '/profile/identity/v4.1/Users', body);
      expect([0, 502, 504]).toContain(res.status);
      statuses.add(res.status);
    }
    // All three ways of losing an answer show up.
    expect(statuses).toEqual(new Set([0, 502, 504]));
    const held = (await stateUsers()).map((u) => u.userName);
    for (const n of names) expect(held).toContain(n);
    // The change stays: a retried create is a uniqueness 409, not a second user.
    await knobs({ applyThenFailRate: 0 });
    const again = await send('POST', '/profile/identity/v4.1/Users', userBody('atf0'));
    expect(again.status).toBe(409);
    expect((await stateUsers()).filter((u) => u.userName === names[0])).toHaveLength(1);
  });

  it('applies PATCH and UPS Bulk, and never touches reads', async () => {
    const created = await send('POST', '/profile/identity/v4.1/Users', userBody('atf-p'));
    await knobs({ applyThenFailRate: 1 });
    const patched = await send('PATCH', `/profile/identity/v4.1/Users/${created.body.id}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'replace', path: 'title', value: 'Lost answer' }],
    });
    expect(patched.status).not.toBe(200);
    const bulk = await send('POST', '/profile/v4/Bulk', {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
      Operations: [{ method: 'PATCH', path: `/Users/${created.body.id}`, data: { Operations: [] } }],
    });
    expect(bulk.status).not.toBe(202);
    const state = (await call(s.baseUrl, 'GET', '/_sim/state')).body;
    expect(state.users.find((u: any) => u.id === created.body.id).title).toBe('Lost answer');
    expect(state.provisions).toHaveLength(1);
    // Reads are answered: a .search is a POST but not a write.
    expect((await send('GET', `/profile/identity/v4.1/Users/${created.body.id}`)).status).toBe(200);
    expect((await searchByUserName(created.body.userName)).totalResults).toBe(1);
    expect((await call(s.baseUrl, 'GET', '/_sim/stats')).body.faults.applyThenFail).toBe(2);
  });
});

describe('searchLagMs', () => {
  it('search, list and v4 filter see a write only after the lag; GET by id at once', async () => {
    await knobs({ searchLagMs: 2000 });
    const created = await send('POST', '/profile/identity/v4.1/Users', userBody('lag1'));
    const { id, userName } = created.body;
    expect((await send('GET', `/profile/identity/v4.1/Users/${id}`)).status).toBe(200);
    expect((await searchByUserName(userName)).totalResults).toBe(0);
    expect((await send('GET', '/profile/identity/v4.1/Users')).body.totalResults).toBe(0);
    const v4 = await send(
      'GET',
      `/profile/identity/v4/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}`,
    );
    expect(v4.body.totalResults).toBe(0);

    await advance(2001);
    expect((await searchByUserName(userName)).Resources[0].id).toBe(id);
    expect((await send('GET', '/profile/identity/v4.1/Users')).body.totalResults).toBe(1);

    // An update: search keeps showing the old values for the lag; GET shows the new ones.
    await send('PATCH', `/profile/identity/v4.1/Users/${id}`, {
      schemas: [PATCH_OP],
      Operations: [
        { op: 'replace', path: 'title', value: 'New title' },
        { op: 'replace', path: `${ENT}:employeeNumber`, value: 'LAG-NEW' },
      ],
    });
    expect((await send('GET', `/profile/identity/v4.1/Users/${id}`)).body.title).toBe('New title');
    expect((await searchByUserName(userName)).Resources[0].title).toBeUndefined();
    const byOldNumber = await send('POST', '/profile/identity/v4.1/Users/.search', {
      schemas: [SEARCH],
      filter: `${ENT}:employeeNumber eq "Elag1"`,
    });
    expect(byOldNumber.body.totalResults).toBe(1);
    await advance(2001);
    expect((await searchByUserName(userName)).Resources[0].title).toBe('New title');

    // A delete: still found by search for the lag, gone for GET at once.
    await send('DELETE', `/profile/identity/v4.1/Users/${id}`);
    expect((await send('GET', `/profile/identity/v4.1/Users/${id}`)).status).toBe(404);
    expect((await searchByUserName(userName)).totalResults).toBe(1);
    await advance(2001);
    expect((await searchByUserName(userName)).totalResults).toBe(0);
  });
});

describe('foreignUserNames', () => {
  it('a userName of another company is invisible here, and a create or rename to it answers 409', async () => {
    await knobs({ foreignUserNames: ['Taken@Other.example'] });
    expect((await searchByUserName('taken@other.example')).totalResults).toBe(0);
    const create = await send(
      'POST',
      '/profile/identity/v4.1/Users',
      userBody('f1', { userName: 'taken@other.example' }),
    );
    expect(create.status).toBe(409);
    expect(create.body.scimType).toBe('uniqueness');
    expect(create.body.detail).toContain("'userName'");

    const mine = await send('POST', '/profile/identity/v4.1/Users', userBody('f2'));
    expect(mine.status).toBe(200);
    const rename = await send('PATCH', `/profile/identity/v4.1/Users/${mine.body.id}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'replace', path: 'userName', value: 'TAKEN@other.example' }],
    });
    expect(rename.status).toBe(409);
    const ups = await send('POST', '/profile/v4/Users', userBody('f3', { userName: 'taken@other.example' }));
    expect(ups.status).toBe(409);
    expect((await stateUsers()).map((u) => u.userName)).toEqual([mine.body.userName]);
  });
});

describe('requestTokenLifetimeS', () => {
  it('the company request token works for its lifetime; refresh tokens keep working after it', async () => {
    await knobs({ requestTokenLifetimeS: 60 });
    const form = (extra: Record<string, string>) =>
      call(s.baseUrl, 'POST', '/oauth2/v0/token', {
        contentType: 'application/x-www-form-urlencoded',
        body: new URLSearchParams({
          client_id: s.sim.ctx.tenant.clientId,
          client_secret: s.sim.ctx.tenant.clientSecret,
          ...extra,
        }).toString(),
      });
    const grant = {
      grant_type: 'password',
      username: s.sim.ctx.tenant.companyId,
      password: s.sim.ctx.tenant.requestToken,
      credtype: 'authtoken',
    };
    const first = await form(grant);
    expect(first.status).toBe(200);
    await advance(30_000);
    expect((await form(grant)).status).toBe(200); // reusable within its lifetime
    await advance(31_000);
    const expired = await form(grant);
    expect(expired.status).toBe(400);
    expect(expired.body).toMatchObject({ error: 'invalid_grant', code: 5 });
    const refreshed = await form({ grant_type: 'refresh_token', refresh_token: first.body.refresh_token });
    expect(refreshed.status).toBe(200);
    // Rotation: the refresh token just used is dead at once (code 108).
    const reused = await form({ grant_type: 'refresh_token', refresh_token: first.body.refresh_token });
    expect(reused.body).toMatchObject({ error: 'invalid_grant', code: 108 });
  });
});

describe('relocateTo', () => {
  let proxy: TcpProxy;
  afterEach(async () => {
    await proxy.close();
  });

  it('answers code 16 with the new geolocation at the old data center, and 401 to API calls there', async () => {
    // The simulator reached through a second address stands for the new data center.
    proxy = await startTcpProxy(s.baseUrl);
    await knobs({ relocateTo: proxy.url });
    const form = (base: string) =>
      call(base, 'POST', '/oauth2/v0/token', {
        contentType: 'application/x-www-form-urlencoded',
        body: new URLSearchParams({
          client_id: s.sim.ctx.tenant.clientId,
          client_secret: s.sim.ctx.tenant.clientSecret,
          grant_type: 'password',
          username: s.sim.ctx.tenant.companyId,
          password: s.sim.ctx.tenant.requestToken,
          credtype: 'authtoken',
        }).toString(),
      });
    const old = await form(s.baseUrl);
    expect(old.status).toBe(400);
    expect(old.body).toEqual({
      error: 'invalid_request',
      error_description: 'user lives elsewhere',
      code: 16,
      geolocation: proxy.url,
    });
    const moved = await form(old.body.geolocation);
    expect(moved.status).toBe(200);
    expect(moved.body.geolocation).toBe(proxy.url);
    const atOld = await call(s.baseUrl, 'GET', '/profile/identity/v4.1/Users', { token: moved.body.access_token });
    expect(atOld.status).toBe(401);
    const atNew = await call(proxy.url, 'GET', '/profile/identity/v4.1/Users', { token: moved.body.access_token });
    expect(atNew.status).toBe(200);
  });
});
