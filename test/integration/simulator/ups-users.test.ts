import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ALL_URNS,
  APPROVER,
  CORE,
  ENTERPRISE,
  PATCH_OP,
  ROLE,
  SPEND,
  STATUS,
  TRAVEL,
  ext,
  identityUser,
  startUps,
  validSpend,
  type UpsHarness,
} from './ups-support.ts';

describe('UPS /Users', () => {
  let h: UpsHarness;
  beforeAll(async () => {
    h = await startUps();
  });
  afterAll(async () => {
    await h.close();
  });

  it('POST applies identity at once, then Spend/Travel asynchronously with a result for every extension', async () => {
    await h.call('PATCH', '/_sim/config', { processExtensions: false });
    const created = await h.call(
      'POST',
      '/profile/v4/Users/',
      identityUser('E100', {
        [SPEND]: validSpend({ customData: [{ id: 'custom3', value: 'CC100' }] }),
        [ROLE]: { roles: [{ roleName: 'EXP_USER', roleGroups: [] }] },
        [TRAVEL]: { ruleClass: { id: 624905 }, groups: [143519480] },
      }),
    );
    expect(created.status).toBe(201);
    const { id, meta } = created.body;
    expect(meta.provisionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(meta.statusUrl).toBe(`${h.baseUrl}/profile/v4/provisions/${meta.provisionId}/status`);
    expect(created.body[SPEND]).toBeUndefined();

    // Identity is there already; the extensions are not.
    const identity = await h.call('GET', `/profile/identity/v4.1/Users/${id}`);
    expect(identity.status).toBe(200);
    expect((await h.call('GET', `/profile/spend/v4.1/Users/${id}`)).body[SPEND]).toBeUndefined();

    const pending = await h.call('GET', meta.statusUrl);
    expect(pending.status).toBe(200);
    expect(pending.body).toMatchObject({
      schemas: [STATUS],
      id: meta.provisionId,
      status: { completed: false, success: null },
      operationsCount: { total: 1, success: 0, failed: 0, pending: 1 },
      meta: { provisionType: 'User', resourceType: 'ProvisionRequest', companyId: h.started.sim.ctx.tenant.companyId },
    });
    expect(pending.body.operations).toBeUndefined();
    expect(pending.body.meta.created).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$/);
    expect(pending.body.meta.completed).toBeUndefined();

    await h.call('PATCH', '/_sim/config', { processExtensions: true });
    const done = await h.waitCompleted(meta.statusUrl);
    expect(done.status).toEqual({ completed: true, success: true });
    expect(done.operationsCount).toEqual({ total: 1, success: 1, failed: 0, pending: 0 });
    expect(done.meta.completed).toMatch(/\+0000$/);
    const [op] = done.operations;
    expect(op).toMatchObject({
      id: '1',
      bulkId: 'gen-temp-bulk-id',
      status: { completed: true, success: true, code: '200' },
      resource: { id, type: 'User' },
    });
    expect(op.extensions.map((e: { name: string }) => e.name)).toEqual(ALL_URNS);
    const results = Object.fromEntries(
      op.extensions.map((e: { name: string; status: { result: string } }) => [e.name, e.status.result]),
    );
    expect(results).toEqual(
      Object.fromEntries(
        ALL_URNS.map((urn) => [urn, [CORE, ENTERPRISE, SPEND, ROLE, TRAVEL].includes(urn) ? 'success' : 'no-op']),
      ),
    );

    const spend = await h.call('GET', `/profile/spend/v4.1/Users/${id}`);
    expect(spend.body[SPEND]).toEqual(validSpend({ customData: [{ id: 'custom3', value: 'CC100' }] }));
    expect(spend.body[ROLE]).toEqual({ roles: [{ roleName: 'EXP_USER', roleGroups: [] }] });
  });

  it('PATCH handles the documented extension idioms and returns provision meta', async () => {
    const approver = await h.call('POST', '/profile/v4/Users', identityUser('A200'));
    const created = await h.call(
      'POST',
      '/profile/v4/Users',
      identityUser('E200', {
        [SPEND]: validSpend({ ledgerCode: 'DEFAULT' }),
        [ROLE]: { roles: [{ roleName: 'EXP_USER' }, { roleName: 'SHD_BUDGET_APPROVER' }] },
      }),
    );
    await h.waitCompleted(created.body.meta.statusUrl);
    const id = created.body.id as string;

    const patched = await h.call('PATCH', `/profile/v4/Users/${id}`, {
      schemas: [PATCH_OP],
      Operations: [
        { op: 'replace', path: 'active', value: false },
        { op: 'add', path: `${SPEND}:`, value: { stateProvince: 'WA' } },
        { op: 'add', value: { [APPROVER]: { report: [{ approver: { employeeNumber: 'A200' }, primary: true }] } } },
        { op: 'remove', path: `${ROLE}:roles[roleName eq "SHD_BUDGET_APPROVER"]` },
        { op: 'add', path: TRAVEL, value: { ruleClass: { name: 'Default' } } },
      ],
    });
    expect(patched.status).toBe(200);
    expect(patched.body.active).toBe(false);
    expect(patched.body.meta.provisionId).not.toBe(created.body.meta.provisionId);
    const done = await h.waitCompleted(patched.body.meta.statusUrl);
    expect(done.status.success).toBe(true);
    const [op] = done.operations;
    expect(ext(op, CORE).status.result).toBe('success');
    expect(ext(op, ENTERPRISE).status.result).toBe('no-op');
    expect(ext(op, APPROVER).status.result).toBe('success');

    const spend = (await h.call('GET', `/profile/spend/v4.1/Users/${id}`)).body;
    expect(spend[SPEND]).toEqual(validSpend({ ledgerCode: 'DEFAULT', stateProvince: 'WA' }));
    expect(spend[ROLE]).toEqual({ roles: [{ roleName: 'EXP_USER' }] });
    expect(spend[APPROVER]).toEqual({ report: [{ approver: { employeeNumber: 'A200' }, primary: true }] });

    // Removing a whole extension with the trailing colon.
    const removed = await h.call('PATCH', `/profile/v4/Users/${id}`, {
      Operations: [{ op: 'remove', path: `${APPROVER}:` }],
    });
    expect(removed.status).toBe(200);
    expect((await h.waitCompleted(removed.body.meta.statusUrl)).status.success).toBe(true);
    expect((await h.call('GET', `/profile/spend/v4.1/Users/${id}`)).body[APPROVER]).toBeUndefined();
    expect(approver.status).toBe(201);
  });

  it('PUT replaces identity and the sent extensions; DELETE answers 204', async () => {
    const user = identityUser('E300', { [SPEND]: validSpend({ ledgerCode: 'CORP' }) });
    const created = await h.call('POST', '/profile/v4/Users', user);
    await h.waitCompleted(created.body.meta.statusUrl);
    const id = created.body.id as string;
    const replaced = await h.call('PUT', `/profile/v4/Users/${id}`, {
      ...user,
      id,
      nickName: 'Nick',
      [SPEND]: validSpend({ country: 'DE', reimbursementCurrency: 'EUR' }),
    });
    expect(replaced.status).toBe(200);
    expect(replaced.body.nickName).toBe('Nick');
    expect(replaced.body.meta.statusUrl).toContain(replaced.body.meta.provisionId);
    await h.waitCompleted(replaced.body.meta.statusUrl);
    expect((await h.call('GET', `/profile/spend/v4.1/Users/${id}`)).body[SPEND]).toEqual(
      validSpend({ country: 'DE', reimbursementCurrency: 'EUR' }),
    );

    const deleted = await h.call('DELETE', `/profile/v4/Users/${id}`);
    expect(deleted.status).toBe(204);
    expect((await h.call('GET', `/profile/identity/v4.1/Users/${id}`)).status).toBe(404);
  });

  it('serves the /provisioning/v4 alias, with and without trailing slashes', async () => {
    const created = await h.call('POST', '/provisioning/v4/Users', identityUser('E400'));
    expect(created.status).toBe(201);
    const provisionId = created.body.meta.provisionId as string;
    await h.waitCompleted(created.body.meta.statusUrl);
    for (const path of [
      `/provisioning/v4/provisions/${provisionId}/status`,
      `/provisioning/v4/provisions/${provisionId}/status/`,
      `/profile/v4/provisions/${provisionId}/status/`,
    ]) {
      const res = await h.call('GET', path);
      expect(res.status).toBe(200);
      expect(res.body.id).toBe(provisionId);
    }
    const patched = await h.call('PATCH', `/provisioning/v4/Users/${created.body.id}/`, {
      Operations: [{ op: 'replace', path: 'nickName', value: 'Alias' }],
    });
    expect(patched.status).toBe(200);
    expect(patched.body.nickName).toBe('Alias');
  });

  it('answers identity errors synchronously: duplicate userName 409, unknown uuid 404, no token 401', async () => {
    const user = identityUser('E500');
    expect((await h.call('POST', '/profile/v4/Users', user)).status).toBe(201);
    const dup = await h.call('POST', '/profile/v4/Users', { ...user, [ENTERPRISE]: { employeeNumber: 'E501' } });
    expect(dup.status).toBe(409);
    expect(dup.body.status).toBe('409');
    const missing = await h.call('PATCH', '/profile/v4/Users/00000000-0000-4000-8000-000000000000', {
      Operations: [{ op: 'add', path: SPEND, value: validSpend() }],
    });
    expect(missing.status).toBe(404);
    expect(missing.body.schemas).toContain('urn:ietf:params:scim:api:messages:2.0:Error');
    const unauth = await fetch(`${h.baseUrl}/profile/v4/Users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(identityUser('E502')),
    });
    expect(unauth.status).toBe(401);
    await unauth.body?.cancel();
  });
});
