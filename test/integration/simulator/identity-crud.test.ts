import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSimulator, type StartedSimulator } from '../../helpers/simulator.ts';
import { ENT, PATCH_OP, call, userBody } from './http.ts';

const USERS = '/profile/identity/v4.1/Users';
const example = JSON.parse(
  readFileSync(new URL('../../fixtures/concur/identity-create-example.json', import.meta.url), 'utf8'),
);

let s: StartedSimulator;
let token: string;
beforeAll(async () => {
  s = await startSimulator();
});
afterAll(async () => {
  await s.close();
});
beforeEach(async () => {
  await call(s.baseUrl, 'POST', '/_sim/reset');
  token = await s.companyToken();
});

const post = (body: unknown) => call(s.baseUrl, 'POST', USERS, { token, body });
const patch = (id: string, ...Operations: unknown[]) =>
  call(s.baseUrl, 'PATCH', `${USERS}/${id}`, {
    token,
    body: { schemas: [PATCH_OP], Operations },
    contentType: 'application/scim+json',
  });

describe('Identity v4.1 create and read', () => {
  it('creates the documented example with server defaults (200, not 201)', async () => {
    const res = await post(example);
    expect(res.status).toBe(200);
    expect(res.headers.get('concur-correlationid')).toMatch(/^[0-9a-f-]{36}$/);
    const u = res.body;
    expect(u.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(u).toMatchObject({
      userName: example.userName,
      active: true,
      displayName: 'John Doe',
      name: { familyName: 'Doe', givenName: 'John', formatted: 'Doe, John ' },
      timezone: 'America/New_York',
      preferredLanguage: 'en-US',
      emails: [{ value: example.emails[0].value, type: 'work', notifications: false }],
      [ENT]: { employeeNumber: '12345_employeeNumber', companyId: s.sim.ctx.tenant.companyId },
      meta: { resourceType: 'User', version: 0, location: `${s.baseUrl}${USERS}/${u.id}` },
    });
    expect(u.schemas).toEqual([
      'urn:ietf:params:scim:schemas:core:2.0:User',
      ENT,
      'urn:ietf:params:scim:schemas:extension:sap:2.0:User',
    ]);
    expect(u.localeOverrides).toBeTypeOf('object');
    const got = await call(s.baseUrl, 'GET', `${USERS}/${u.id}`, { token });
    expect(got.status).toBe(200);
    expect(got.body).toEqual(u);
  });

  it('echoes a client correlation id', async () => {
    const res = await call(s.baseUrl, 'GET', USERS, {
      token,
      headers: { 'Concur-Correlationid': 'd16d944e9c5ba571e23e028e015dbd58' },
    });
    expect(res.headers.get('concur-correlationid')).toBe('d16d944e9c5ba571e23e028e015dbd58');
  });

  it('forces companyId from the token when absent; rejects another company', async () => {
    const body = userBody(1);
    delete (body[ENT] as Record<string, unknown>).companyId;
    const ok = await post(body);
    expect(ok.body[ENT].companyId).toBe(s.sim.ctx.tenant.companyId);
    const bad = await post(userBody(2, { enterprise: { companyId: '00000000-0000-0000-0000-000000000000' } }));
    expect(bad.status).toBe(400);
    expect(bad.body.scimType).toBe('mutability');
  });

  it('404 SCIM error for unknown ids on every method', async () => {
    const id = '00000000-0000-4000-8000-000000000000';
    for (const [method, body] of [
      ['GET'],
      ['PUT', userBody(1)],
      ['PATCH', { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'active', value: false }] }],
      ['DELETE'],
    ] as const) {
      const res = await call(s.baseUrl, method, `${USERS}/${id}`, { token, body });
      expect(res.status, method).toBe(404);
      expect(res.body).toMatchObject({ status: '404' });
    }
  });
});

describe('Identity v4.1 validation', () => {
  it.each([
    ['missing userName', { userName: undefined }, 'userName'],
    ['missing active', { active: undefined }, 'active'],
    ['missing givenName', { name: { familyName: 'F' } }, 'name.givenName'],
    ['familyName too long', { name: { givenName: 'G', familyName: 'x'.repeat(33) } }, 'name.familyName'],
    ['missing emails', { emails: [] }, 'emails'],
    ['email without type', { emails: [{ value: 'a@b.c' }] }, 'emails.type'],
    ['bad email type', { emails: [{ value: 'a@b.c', type: 'office' }] }, 'emails.type'],
    [
      'two work emails',
      {
        emails: [
          { value: 'a@b.c', type: 'work' },
          { value: 'd@b.c', type: 'work' },
        ],
      },
      'emails.type',
    ],
    ['forbidden userName char', { userName: 'a+b@example.com' }, 'userName'],
    ['pipe in userName', { userName: 'a|b@example.com' }, 'userName'],
    ['employeeNumber too long', { enterprise: { employeeNumber: 'x'.repeat(49) } }, `${ENT}:employeeNumber`],
    ['costCenter too long', { enterprise: { costCenter: 'x'.repeat(26) } }, `${ENT}:costCenter`],
    ['bad startDate format', { enterprise: { startDate: '17/11/2021' } }, `${ENT}:startDate`],
    ['startDate out of range', { enterprise: { startDate: '2080-01-01T00:00:00Z' } }, `${ENT}:startDate`],
    [
      'impossible terminationDate',
      { enterprise: { terminationDate: '2021-02-30T00:00:00Z' } },
      `${ENT}:terminationDate`,
    ],
    [
      'unknown manager',
      { enterprise: { manager: { value: '00000000-0000-4000-8000-000000000000' } } },
      `${ENT}:manager.value`,
    ],
    ['bad timezone', { timezone: 'Mars/Olympus' }, 'timezone'],
    ['bad dateOfBirth', { dateOfBirth: '1990-13-01' }, 'dateOfBirth'],
    [
      'two primary mobiles',
      {
        phoneNumbers: [
          { value: '1', type: 'mobile', primary: true },
          { value: '2', type: 'mobile', primary: true },
        ],
      },
      'phoneNumbers.primary',
    ],
    ['active as string', { active: 'true' }, 'active'],
  ])('%s → 400 invalidValue naming the attribute', async (_name, override, schemaPath) => {
    const body = userBody(1, override);
    for (const [k, v] of Object.entries(override)) if (v === undefined) delete body[k];
    const res = await post(body);
    expect(res.status).toBe(400);
    expect(res.body.status).toBe('400');
    expect(res.body.scimType).toBe('invalidValue');
    const paths = res.body['urn:ietf:params:scim:api:messages:concur:2.0:Error'].messages.map(
      (m: { schemaPath: string }) => m.schemaPath,
    );
    expect(paths).toContain(schemaPath);
    expect((await call(s.baseUrl, 'GET', USERS, { token })).body.totalResults).toBe(0);
  });

  it('accepts and normalizes enterprise dates in both forms', async () => {
    const res = await post(
      userBody(1, { enterprise: { startDate: '2021-11-17T00:00:00Z', terminationDate: '2079-06-06' } }),
    );
    expect(res.status).toBe(200);
    expect(res.body[ENT].startDate).toBe('2021-11-17T00:00:00.000');
    expect(res.body[ENT].terminationDate).toBe('2079-06-06T00:00:00.000');
  });

  it('rejects a body that is not JSON', async () => {
    const res = await call(s.baseUrl, 'POST', USERS, { token, body: '{not json' });
    expect(res.status).toBe(400);
    expect(res.body.scimType).toBe('invalidSyntax');
  });
});

describe('Identity v4.1 uniqueness', () => {
  it('409 uniqueness for userName (case-insensitive), employeeNumber and externalId', async () => {
    expect((await post(userBody(1, { externalId: 'X1' }))).status).toBe(200);
    const dupUser = await post({ ...userBody(2), userName: 'USER1@EXAMPLE.COM' });
    expect(dupUser.status).toBe(409);
    expect(dupUser.body).toMatchObject({
      status: '409',
      scimType: 'uniqueness',
      detail: "Principal with lookup type 'userName' with provided value already exists",
    });
    const dupEmp = await post(userBody(3, { enterprise: { employeeNumber: 'E1' } }));
    expect(dupEmp.status).toBe(409);
    expect(dupEmp.body.detail).toBe(
      "Principal with lookup type 'companyId,employeeNumber' with provided value already exists",
    );
    const dupExt = await post(userBody(4, { externalId: 'X1' }));
    expect(dupExt.status).toBe(409);
    expect(dupExt.body.detail).toBe(
      "Principal with lookup type 'companyId,externalId' with provided value already exists",
    );
    expect((await call(s.baseUrl, 'GET', USERS, { token })).body.totalResults).toBe(1);
  });

  it("a user may keep its own values on PUT; taking another user's is 409", async () => {
    const a = (await post(userBody(1))).body;
    await post(userBody(2));
    expect((await call(s.baseUrl, 'PUT', `${USERS}/${a.id}`, { token, body: userBody(1) })).status).toBe(200);
    const res = await patch(a.id, { op: 'replace', path: `${ENT}:employeeNumber`, value: 'E2' });
    expect(res.status).toBe(409);
    expect((await call(s.baseUrl, 'GET', `${USERS}/${a.id}`, { token })).body[ENT].employeeNumber).toBe('E1');
  });
});

describe('Identity v4.1 PATCH, PUT, DELETE', () => {
  it('applies the documented PATCH paths and bumps meta.version', async () => {
    const manager = (await post(userBody('m'))).body;
    const u = (await post(userBody(1))).body;
    const res = await patch(
      u.id,
      { op: 'replace', path: 'emails[type eq "work"]', value: 'new@example.com' },
      { op: 'replace', path: 'name.givenName', value: 'Johnny' },
      { op: 'add', path: `${ENT}:manager.value`, value: manager.id },
      { op: 'replace', path: `${ENT}:department`, value: 'Sales' },
      { op: 'add', path: 'nickName', value: 'JJ' },
    );
    expect(res.status).toBe(200);
    expect(res.body.emails).toEqual([
      { value: 'new@example.com', type: 'work', verified: false, notifications: false },
    ]);
    expect(res.body.name).toMatchObject({ givenName: 'Johnny', formatted: 'Family1, Johnny ' });
    expect(res.body.displayName).toBe('JJ Family1');
    expect(res.body[ENT]).toMatchObject({
      department: 'Sales',
      manager: { value: manager.id, employeeNumber: 'Em', displayName: 'Givenm Familym' },
    });
    expect(res.body.meta.version).toBe(1);
    expect(res.body.meta.created).toBe(u.meta.created);

    const pathless = await patch(u.id, {
      op: 'replace',
      value: { active: false, [ENT]: { terminationDate: '2030-01-31T00:00:00Z' } },
    });
    expect(pathless.body.active).toBe(false);
    expect(pathless.body[ENT].terminationDate).toBe('2030-01-31T00:00:00.000');
    expect(pathless.body[ENT].department).toBe('Sales');
    expect(pathless.body.meta.version).toBe(2);

    const removed = await patch(u.id, { op: 'remove', path: `${ENT}:manager` }, { op: 'remove', path: 'nickName' });
    expect(removed.body[ENT].manager).toBeUndefined();
    expect(removed.body.displayName).toBe('Johnny Family1');
    const stored = await call(s.baseUrl, 'GET', `${USERS}/${u.id}`, { token });
    expect(stored.body).toEqual(removed.body);
  });

  it('a PATCH that breaks validation changes nothing', async () => {
    const u = (await post(userBody(1))).body;
    const res = await patch(
      u.id,
      { op: 'replace', path: 'active', value: true },
      { op: 'remove', path: 'name.familyName' },
    );
    expect(res.status).toBe(400);
    const bad = await patch(u.id, {
      op: 'replace',
      path: `${ENT}:companyId`,
      value: '00000000-0000-0000-0000-000000000000',
    });
    expect(bad.status).toBe(400);
    expect(bad.body.scimType).toBe('mutability');
    expect((await call(s.baseUrl, 'GET', `${USERS}/${u.id}`, { token })).body).toEqual(u);
  });

  it('PUT replaces fully: missing attributes are erased, defaults come back', async () => {
    const u = (await post(userBody(1, { title: 'Boss', timezone: 'Europe/Berlin', enterprise: { costCenter: 'CC' } })))
      .body;
    const res = await call(s.baseUrl, 'PUT', `${USERS}/${u.id}`, { token, body: userBody(1, { nickName: 'N' }) });
    expect(res.status).toBe(200);
    expect(res.body.title).toBeUndefined();
    expect(res.body.nickName).toBe('N');
    expect(res.body.timezone).toBe('America/New_York');
    expect(res.body[ENT].costCenter).toBeUndefined();
    expect(res.body.id).toBe(u.id);
    expect(res.body.meta.version).toBe(1);
  });

  it('DELETE answers 204 and the user is gone', async () => {
    const u = (await post(userBody(1))).body;
    const res = await call(s.baseUrl, 'DELETE', `${USERS}/${u.id}`, { token });
    expect(res.status).toBe(204);
    expect(res.body).toBeUndefined();
    expect((await call(s.baseUrl, 'GET', `${USERS}/${u.id}`, { token })).status).toBe(404);
    expect((await post(userBody(1))).status).toBe(200);
  });

  it('serves the same shapes under /profile/identity/v4 and ignores trailing slashes', async () => {
    const res = await call(s.baseUrl, 'POST', '/profile/identity/v4/Users/', { token, body: userBody(1) });
    expect(res.status).toBe(200);
    expect((await call(s.baseUrl, 'GET', `/profile/identity/v4/Users/${res.body.id}`, { token })).body.userName).toBe(
      'user1@example.com',
    );
  });
});
