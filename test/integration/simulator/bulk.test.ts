import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  APPROVER,
  BULK,
  CORE,
  ENTERPRISE,
  SPEND,
  STATUS,
  TRAVEL,
  bulkOf,
  ext,
  identityUser,
  startUps,
  validSpend,
  type Json,
  type UpsHarness,
} from './ups-support.ts';

describe('UPS /Bulk', () => {
  let h: UpsHarness;
  beforeAll(async () => {
    h = await startUps();
  });
  afterAll(async () => {
    await h.close();
  });

  const userCount = async (): Promise<number> => ((await h.call('GET', '/_sim/state')).body.users as unknown[]).length;

  it('answers 202 with a pending Provision:Status whose id is the provisionId', async () => {
    await h.call('PATCH', '/_sim/config', { processExtensions: false });
    const res = await h.call(
      'POST',
      `/profile/v4/Bulk/?companyId=${h.started.sim.ctx.tenant.companyId}`,
      bulkOf([identityUser('B1'), identityUser('B2')]),
    );
    try {
      expect(res.status).toBe(202);
      expect(res.body).toMatchObject({
        schemas: [STATUS],
        operationsCount: { total: 2, success: 0, failed: 0, pending: 2 },
        status: { completed: false, success: null },
        meta: {
          location: `${h.baseUrl}/profile/v4/provisions/${res.body.id}/status`,
          provisionType: 'Bulk',
          resourceType: 'ProvisionRequest',
          correlationId: res.headers.get('concur-correlationid'),
        },
      });
      expect(res.body.provisionId).toBeUndefined();
      // Identity of a Bulk is applied asynchronously too: nothing exists yet.
      const state = (await h.call('GET', '/_sim/state')).body;
      expect((state.users as Json[]).some((u) => u[ENTERPRISE]?.employeeNumber === 'B1')).toBe(false);
      const pending = await h.detail(res.body.meta.location);
      expect(pending.body.operations.map((o: Json) => [o.bulkId, o.status.completed, o.resource.id])).toEqual([
        ['b1', false, undefined],
        ['b2', false, undefined],
      ]);
    } finally {
      await h.call('PATCH', '/_sim/config', { processExtensions: true });
    }
    // Switching processing back on picks the waiting request up.
    expect((await h.waitCompleted(res.body.meta.location)).operationsCount).toEqual({
      total: 2,
      success: 2,
      failed: 0,
      pending: 0,
    });
  });

  it('processes every operation kind and resolves an approver created later in the same bulk', async () => {
    const existing = await h.call('POST', '/profile/v4/Users', identityUser('B10', { [SPEND]: validSpend() }));
    const doomed = await h.call('POST', '/profile/v4/Users', identityUser('B11'));
    await h.waitCompleted(existing.body.meta.statusUrl);
    const res = await h.call('POST', '/profile/v4/Bulk', {
      schemas: [BULK],
      failOnErrors: 1,
      Operations: [
        {
          method: 'POST',
          path: '/Users',
          bulkId: 'emp',
          data: identityUser('B12', {
            [SPEND]: validSpend(),
            [APPROVER]: { report: [{ approver: { employeeNumber: 'B13' }, primary: true }] },
          }),
        },
        { method: 'POST', path: '/Users', bulkId: 'mgr', data: identityUser('B13', { [SPEND]: validSpend() }) },
        {
          method: 'PATCH',
          path: `/Users/${existing.body.id}`,
          bulkId: 'upd',
          data: {
            schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
            Operations: [
              { op: 'replace', path: 'nickName', value: 'Bulky' },
              { op: 'add', path: TRAVEL, value: { ruleClass: { id: 7 } } },
            ],
          },
        },
        { method: 'DELETE', path: `/Users/${doomed.body.id}` },
      ],
    });
    expect(res.status).toBe(202);
    const done = await h.waitCompleted(res.body.meta.location);
    expect(done.status).toEqual({ completed: true, success: true });
    expect(done.operationsCount).toEqual({ total: 4, success: 4, failed: 0, pending: 0 });
    const [emp, mgr, upd, del] = done.operations as Json[];
    expect(emp?.bulkId).toBe('emp');
    expect(ext(emp!, APPROVER).status.result).toBe('success');
    expect(mgr?.resource.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(ext(upd!, TRAVEL).status.result).toBe('success');
    expect(ext(upd!, CORE).status.result).toBe('success');
    expect(del?.status).toEqual({ completed: true, success: true, code: '200' });
    expect((await h.call('GET', `/profile/identity/v4.1/Users/${existing.body.id}`)).body.nickName).toBe('Bulky');
    expect((await h.call('GET', `/profile/identity/v4.1/Users/${doomed.body.id}`)).status).toBe(404);
    expect((await h.call('GET', `/profile/travel/v4/Users/${existing.body.id}`)).body[TRAVEL]).toEqual({
      ruleClass: { id: 7 },
    });
  });

  it('fails an operation whose identity fails and leaves its other extensions not-processed', async () => {
    const taken = identityUser('B20');
    expect((await h.call('POST', '/profile/v4/Users', taken)).status).toBe(201);
    const res = await h.call(
      'POST',
      '/profile/v4/Bulk',
      bulkOf([{ ...taken, [ENTERPRISE]: { employeeNumber: 'B21' }, [SPEND]: validSpend() }, identityUser('B22')]),
    );
    const done = await h.waitCompleted(res.body.meta.location);
    expect(done.status).toEqual({ completed: true, success: false });
    expect(done.operationsCount).toEqual({ total: 2, success: 1, failed: 1, pending: 0 });
    const failed = done.operations[0] as Json;
    expect(failed.status).toEqual({ completed: true, success: false, code: '409' });
    expect(ext(failed, CORE).status).toMatchObject({ result: 'error', code: '409' });
    expect(ext(failed, CORE).messages.length).toBeGreaterThan(0);
    expect(ext(failed, SPEND).status.result).toBe('not-processed');
    expect(ext(failed, ENTERPRISE).status.result).toBe('not-processed');
  });

  it('rejects a bulk over the limits or malformed with a SCIM error and applies nothing', async () => {
    const before = await userCount();
    const tooMany = await h.call(
      'POST',
      '/profile/v4/Bulk',
      bulkOf(Array.from({ length: 101 }, (_, i) => identityUser(`L${i}`))),
    );
    expect(tooMany.status).toBe(400);
    expect(tooMany.body).toMatchObject({
      status: '400',
      schemas: expect.arrayContaining(['urn:ietf:params:scim:api:messages:2.0:Error']),
    });

    const big = bulkOf([identityUser('L200', { nickName: 'x'.repeat(420 * 1024) })]);
    const tooBig = await h.call('POST', '/profile/v4/Bulk', big);
    expect(tooBig.status).toBe(413);
    expect(tooBig.body.status).toBe('413');

    const noBulkId = await h.call('POST', '/profile/v4/Bulk', {
      schemas: [BULK],
      Operations: [{ method: 'POST', path: '/Users', data: identityUser('L300') }],
    });
    expect(noBulkId.status).toBe(400);
    expect(noBulkId.body.detail).toMatch(/bulkId/);

    const badMethod = await h.call('POST', '/profile/v4/Bulk', {
      Operations: [{ method: 'GET', path: '/Users/x', bulkId: 'g' }],
    });
    expect(badMethod.status).toBe(400);
    const badPath = await h.call('POST', '/profile/v4/Bulk', {
      Operations: [{ method: 'PATCH', path: '/Groups/x', data: { Operations: [] } }],
    });
    expect(badPath.status).toBe(400);
    const otherCompany = await h.call(
      'POST',
      '/profile/v4/Bulk?companyId=11111111-1111-4111-8111-111111111111',
      bulkOf([identityUser('L400')]),
    );
    expect(otherCompany.status).toBe(400);

    // A hundred operations is fine.
    const hundred = await h.call(
      'POST',
      '/provisioning/v4/Bulk',
      bulkOf(Array.from({ length: 100 }, (_, i) => identityUser(`H${i}`))),
    );
    expect(hundred.status).toBe(202);
    expect((await h.waitCompleted(hundred.body.meta.location)).operationsCount.success).toBe(100);
    expect(await userCount()).toBe(before + 100);
  });
});
