import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type StartedSimulator } from '../../helpers/simulator.ts';
import { ENT, SEARCH, call, userBody } from './http.ts';

const USERS = '/profile/identity/v4.1/Users';
let s: StartedSimulator;
let token: string;

// 25 users: user0..user24; even ones inactive; every fifth in department "Sales"; user3 has a home email.
beforeAll(async () => {
  s = await startSimulator();
  token = await s.companyToken();
  for (let i = 0; i < 25; i++) {
    const extra: Record<string, unknown> = {
      active: i % 2 === 1,
      enterprise: { department: i % 5 === 0 ? 'Sales' : 'Ops' },
    };
    if (i === 3)
      extra.emails = [
        { value: 'user3@example.com', type: 'work' },
        { value: 'three@home.org', type: 'home' },
      ];
    if (i === 4) extra.entitlements = ['Invoice'];
    const res = await call(s.baseUrl, 'POST', USERS, { token, body: userBody(i, extra) });
    if (res.status !== 200) throw new Error(JSON.stringify(res.body));
  }
});
afterAll(async () => {
  await s.close();
});

const search = (body: Record<string, unknown>) =>
  call(s.baseUrl, 'POST', `${USERS}/.search`, { token, body: { schemas: [SEARCH], ...body } });
const userNames = (res: { body: { Resources: { userName: string }[] } }) =>
  res.body.Resources.map((r) => r.userName).sort();

describe('POST /Users/.search filters', () => {
  it.each([
    ['userName eq "USER7@example.com"', ['user7@example.com']],
    ['userName sw "user2" and active eq true', ['user21@example.com', 'user23@example.com']],
    [`${ENT}:department eq "sales" and not (active eq false)`, ['user15@example.com', 'user5@example.com']],
    ['emails[type eq "home" and value ew "HOME.ORG"]', ['user3@example.com']],
    [
      `(userName eq "user1@example.com" or userName eq "user2@example.com") and ${ENT}:employeeNumber eq "E2"`,
      ['user2@example.com'],
    ],
    ['entitlements eq "invoice"', ['user4@example.com']],
    [`${ENT}:employeeNumber eq "E24"`, ['user24@example.com']],
  ])('%s', async (filter, expected) => {
    const res = await search({ filter });
    expect(res.status).toBe(200);
    expect(userNames(res)).toEqual(expected);
    expect(res.body.totalResults).toBe(expected.length);
  });

  it('no filter returns every user of the company', async () => {
    const res = await search({});
    expect(res.body.totalResults).toBe(25);
  });

  it.each(['userName eq', 'userName eq "a" oops', 'displayName eq "x"', ':test eq "x"', 'emails[type ne "work"]'])(
    'invalid filter %s → 400 invalidFilter',
    async (filter) => {
      const res = await search({ filter });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ status: '400', scimType: 'invalidFilter' });
    },
  );

  it('rejects startIndex, a missing schemas and a bad count', async () => {
    expect((await search({ startIndex: 1 })).status).toBe(400);
    expect(
      (await call(s.baseUrl, 'POST', `${USERS}/.search`, { token, body: { filter: 'active eq true' } })).status,
    ).toBe(400);
    expect((await search({ count: 1001 })).status).toBe(400);
    expect((await search({ cursor: 'bm90IGEgY3Vyc29y' })).status).toBe(400);
  });
});

describe('cursor paging', () => {
  it('pages a search with nextCursor, carrying the filter when only the cursor is sent', async () => {
    const seen: string[] = [];
    const starts: number[] = [];
    let res = await search({ filter: 'active eq true', count: 4 });
    for (;;) {
      expect(res.status).toBe(200);
      expect(res.body.totalResults).toBe(12);
      seen.push(...res.body.Resources.map((r: { userName: string }) => r.userName));
      starts.push(res.body.startIndex);
      if (!res.body.nextCursor) break;
      expect(JSON.parse(Buffer.from(res.body.nextCursor, 'base64').toString())).toHaveProperty('created-id');
      res = await search({ count: 4, cursor: res.body.nextCursor });
    }
    expect(starts).toEqual([1, 5, 9]);
    expect(seen).toHaveLength(12);
    expect(new Set(seen).size).toBe(12);
    expect(seen.every((u) => Number(/\d+/.exec(u)?.[0]) % 2 === 1)).toBe(true);
  });

  it('GET list pages with count and cursor; no nextCursor on the last page', async () => {
    const all: string[] = [];
    let path = `${USERS}?count=10`;
    let pages = 0;
    for (;;) {
      const res = await call(s.baseUrl, 'GET', path, { token });
      expect(res.status).toBe(200);
      pages += 1;
      all.push(...res.body.Resources.map((r: { id: string }) => r.id));
      if (!res.body.nextCursor) break;
      path = `${USERS}?count=10&cursor=${encodeURIComponent(res.body.nextCursor)}`;
    }
    expect(pages).toBe(3);
    expect(new Set(all).size).toBe(25);
  });

  it('GET rejects startIndex and filter on v4.1', async () => {
    expect((await call(s.baseUrl, 'GET', `${USERS}?startIndex=2`, { token })).status).toBe(400);
    const res = await call(s.baseUrl, 'GET', `${USERS}?filter=${encodeURIComponent('userName eq "a"')}`, { token });
    expect(res.status).toBe(400);
    expect(res.body.scimType).toBe('invalidFilter');
  });

  it('a page exactly as long as the result has no nextCursor', async () => {
    const res = await search({ filter: 'active eq true', count: 12 });
    expect(res.body.itemsPerPage).toBe(12);
    expect(res.body.nextCursor).toBeUndefined();
  });
});

describe('projection', () => {
  it('attributes returns only those plus id (and schemas)', async () => {
    const res = await search({
      filter: 'userName eq "user3@example.com"',
      attributes: ['active', 'emails.value', `${ENT}:department`],
    });
    expect(res.body.Resources[0]).toEqual({
      schemas: expect.any(Array),
      id: expect.any(String),
      active: true,
      emails: [{ value: 'user3@example.com' }, { value: 'three@home.org' }],
      [ENT]: { department: 'Ops' },
    });
  });

  it('excludedAttributes drops attributes; entitlements only on request', async () => {
    const res = await call(s.baseUrl, 'GET', `${USERS}?count=5&excludedAttributes=emails,name.familyName`, { token });
    const u4 = res.body.Resources.find((r: { userName: string }) => r.userName === 'user4@example.com');
    expect(u4.emails).toBeUndefined();
    expect(u4.name.familyName).toBeUndefined();
    expect(u4.name.givenName).toBe('Given4');
    expect(u4.entitlements).toBeUndefined();
    const asked = await search({ filter: 'userName eq "user4@example.com"', attributes: ['entitlements'] });
    expect(asked.body.Resources[0].entitlements).toEqual(['Invoice']);
  });

  it('an unknown attribute name is a 400', async () => {
    expect((await search({ attributes: ['nope'] })).status).toBe(400);
  });
});

describe('v4 GET with filter and startIndex/count', () => {
  const v4 = (query: string) => call(s.baseUrl, 'GET', `/profile/identity/v4/Users?${query}`, { token });

  it.each([
    [`filter=${encodeURIComponent('userName eq "user9@example.com"')}`, 'user9@example.com'],
    [`filter=${encodeURIComponent('employeeNumber eq "E11"')}`, 'user11@example.com'],
    [`filter=${encodeURIComponent(`${ENT}:employeeNumber eq "e12"`)}`, 'user12@example.com'],
  ])('%s', async (query, userName) => {
    const res = await v4(query);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ totalResults: 1, startIndex: 1, itemsPerPage: 1 });
    expect(res.body.Resources[0].userName).toBe(userName);
  });

  it('pages with startIndex and count (default 10)', async () => {
    const first = await v4('');
    expect(first.body).toMatchObject({ totalResults: 25, startIndex: 1, itemsPerPage: 10 });
    const last = await v4('startIndex=21&count=10');
    expect(last.body).toMatchObject({ totalResults: 25, startIndex: 21, itemsPerPage: 5 });
    expect(last.body.Resources[4].userName).toBe('user24@example.com');
  });

  it('only eq on userName, employeeNumber, externalId', async () => {
    for (const f of ['userName sw "user"', 'active eq true', 'userName eq "a" and userName eq "b"']) {
      const res = await v4(`filter=${encodeURIComponent(f)}`);
      expect(res.status, f).toBe(400);
      expect(res.body.scimType).toBe('invalidFilter');
    }
  });
});
