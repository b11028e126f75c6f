import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startScriptedServer, type ScriptedServer } from '../../helpers/scripted-server.ts';
import {
  bulkOf,
  CORE,
  ENTERPRISE,
  ext,
  identityUser,
  ROLE,
  SPEND,
  startUps,
  validSpend,
  type Json,
  type UpsHarness,
} from './ups-support.ts';

/*
 * The points where the simulator once differed from what SAP publishes (its Postman collections,
 * swaggers and reference pages; docs/concur-api.md), each checked against the simulator over HTTP.
 */

let h: UpsHarness;
beforeAll(async () => {
  h = await startUps();
});
afterAll(async () => {
  await h.close();
});

async function provisionOne(user: Json): Promise<Json> {
  const res = await h.call('POST', '/profile/v4/Bulk', bulkOf([user]));
  expect(res.status).toBe(202);
  return (await h.waitCompleted(res.body.meta.location)).operations[0];
}
const withRoles = (n: string, roles: string[]): Json =>
  identityUser(n, { [SPEND]: validSpend(), [ROLE]: { roles: roles.map((roleName) => ({ roleName })) } });

describe('Spend role codes', () => {
  it('GET /profile/spend/v4/Users/roleCodes lists the 96 published codes and only those', async () => {
    const res = await h.call('GET', '/profile/spend/v4/Users/roleCodes');
    expect(res.status).toBe(200);
    const codes = (res.body.Resources as Json[]).map((r) => r.roleCode as string);
    expect(codes).toHaveLength(96);
    expect(new Set(codes).size).toBe(96);
    for (const real of ['SHD_BUDGET_VIEWER', 'INV_AP_USER', 'EXP_ATTENDEE_ADMIN', 'REPORTING_CONFIG_ADMIN'])
      expect(codes).toContain(real);
    for (const invented of ['TRV_USER', 'EXP_ADMIN', 'INV_USER', 'CA_ADMIN', 'EXP_AUDITOR', 'EXP_PROXY'])
      expect(codes).not.toContain(invented);
    const byCode = new Map((res.body.Resources as Json[]).map((r) => [r.roleCode, r]));
    expect(byCode.get('EXP_USER')).toMatchObject({ roleName: 'Expense User', entitlement: 'Expense' });
    expect(byCode.get('SHD_BUDGET_APPROVER')).toMatchObject({
      productAreas: ['Expense', 'Invoice'],
      groupAware: false,
    });
    expect(byCode.get('EXP_CONFIG_ADMIN')?.exclusiveWith).toEqual(['EXP_CONFIG_ADMIN_RO']);
  });

  it('accepts real codes, the entitlement-driven ones optional', async () => {
    const op = await provisionOne(withRoles('R1', ['SHD_BUDGET_VIEWER', 'INV_AP_USER', 'EXP_ATTENDEE_ADMIN']));
    expect(ext(op, ROLE).status).toMatchObject({ result: 'success', success: true });
    const withEntitlement = await provisionOne(withRoles('R2', ['EXP_USER', 'REQ_USER', 'INV_PMT_USER']));
    expect(ext(withEntitlement, ROLE).status.result).toBe('success');
  });

  it.each(['TRV_USER', 'EXP_ADMIN', 'INV_USER', 'CA_ADMIN', 'EXP_AUDITOR', 'EXP_PROXY', 'SHD_BUDGET_MANAGER'])(
    'refuses the invented code %s',
    async (code) => {
      const op = await provisionOne(withRoles(`R-${code}`, [code]));
      expect(ext(op, ROLE).status.result).toBe('error');
      expect(ext(op, ROLE).messages[0]).toMatchObject({ message: `Invalid Role: '${code}'` });
    },
  );

  it('refuses roles a user cannot hold together', async () => {
    const op = await provisionOne(withRoles('R3', ['EXP_CONFIG_ADMIN', 'EXP_CONFIG_ADMIN_RO']));
    expect(ext(op, ROLE).status.result).toBe('error');
    expect(ext(op, ROLE).messages).toEqual([
      {
        code: 'INVALID_VALUE',
        message: "Invalid Role: a user cannot hold both 'EXP_CONFIG_ADMIN' and 'EXP_CONFIG_ADMIN_RO'",
        schemaPath: `${ROLE}:roles[roleName eq "EXP_CONFIG_ADMIN_RO"].roleName`,
        type: 'error',
      },
    ]);
    const three = await provisionOne(withRoles('R4', ['REQ_PROCESSOR', 'REQ_RISK_ADMIN']));
    expect(ext(three, ROLE).status.result).toBe('error');
  });
});

describe('Identity v4.1 resource details', () => {
  it('localeOverrides defaults as the v4.1 reference shows them (currency symbol BeforeAmount)', async () => {
    const created = await h.call('POST', '/profile/identity/v4.1/Users', identityUser('L1'));
    expect(created.status).toBe(200);
    expect(created.body.localeOverrides).toEqual({
      preferenceEndDayViewHour: 20,
      preferenceFirstDayOfWeek: 'Sunday',
      preferenceDateFormat: 'mm/dd/yyyy',
      preferenceCurrencySymbolLocation: 'BeforeAmount',
      preferenceHourMinuteSeparator: ':',
      preferenceDistance: 'mile',
      preferenceDefaultCalView: 'month',
      preference24Hour: 'H:mm AM/PM',
      preferenceNumberFormat: '1,000.00',
      preferenceStartDayViewHour: 8,
      preferenceNegativeCurrencyFormat: null,
      preferenceNegativeNumberFormat: null,
    });
    expect(['BeforeAmount', 'AfterAmount']).toContain(created.body.localeOverrides.preferenceCurrencySymbolLocation);
  });

  it.each([
    ['2018-01-01', '2018-01-01'],
    ['2018-01-01T00:00:00.000', '2018-01-01'],
  ])('dateOfBirth %s is accepted (SAP create examples send both)', async (sent, stored) => {
    const res = await h.call(
      'POST',
      '/profile/identity/v4.1/Users',
      identityUser(`D${stored.length}-${sent.length}`, { dateOfBirth: sent }),
    );
    expect(res.status).toBe(200);
    expect(res.body.dateOfBirth).toBe(stored);
  });

  it('still refuses a dateOfBirth that is no date', async () => {
    const res = await h.call('POST', '/profile/identity/v4.1/Users', identityUser('D3', { dateOfBirth: '2018-02-30' }));
    expect(res.status).toBe(400);
  });

  it('filters take unquoted date literals, as the Identity search guide writes them', async () => {
    const early = identityUser('F1', { [ENTERPRISE]: { employeeNumber: 'F1', startDate: '2012-05-01T00:00:00Z' } });
    const late = identityUser('F2', { [ENTERPRISE]: { employeeNumber: 'F2', startDate: '2015-05-01T00:00:00Z' } });
    for (const u of [early, late]) expect((await h.call('POST', '/profile/identity/v4.1/Users', u)).status).toBe(200);
    const res = await h.call('POST', '/profile/identity/v4.1/Users/.search', {
      schemas: ['urn:ietf:params:scim:api:messages:concur:2.0:SearchRequest'],
      filter: `active eq true and ${ENTERPRISE}:startDate le 2013-12-31 and ${ENTERPRISE}:employeeNumber sw "F"`,
      attributes: ['active', `${ENTERPRISE}:startDate`],
    });
    expect(res.status).toBe(200);
    expect((res.body.Resources as Json[]).map((u) => u.userName ?? u.id)).toHaveLength(1);
    expect(res.body.Resources[0][ENTERPRISE].startDate).toBe('2012-05-01T00:00:00.000');
  });

  it('resource segments match case-insensitively (/profile/identity/v4/users/{id}, as SAP calls it)', async () => {
    const created = await h.call('POST', '/profile/identity/v4/Users/', identityUser('C1'));
    const id = created.body.id as string;
    for (const path of [`/profile/identity/v4/users/${id}`, `/profile/identity/v4.1/USERS/${id}`]) {
      const res = await h.call('GET', path);
      expect(res.status, path).toBe(200);
      expect(res.body.id).toBe(id);
    }
    expect((await h.call('GET', `/profile/v4/users/${id}`)).status).toBe(404);
    expect((await h.call('GET', `/profile/spend/v4.1/users/${id}`)).status).toBe(200);
  });
});

describe('SCIM discovery (ServiceProviderConfig, ResourceTypes, Schemas)', () => {
  const apis = ['/profile/identity/v4.1', '/profile/identity/v4', '/profile/v4', '/provisioning/v4'];

  it.each(apis)('%s answers the three discovery resources', async (base) => {
    const spc = await h.call('GET', `${base}/ServiceProviderConfig`);
    expect(spc.status).toBe(200);
    expect(spc.body).toMatchObject({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'],
      patch: { supported: true },
      filter: { supported: true },
      changePassword: { supported: false },
      sort: { supported: false },
      etag: { supported: false },
    });
    expect(typeof spc.body.documentationUrl).toBe('string');
    expect(typeof spc.body.authenticationSchemes.name).toBe('string');
    const ups = base.startsWith('/profile/v4') || base.startsWith('/provisioning');
    expect(spc.body.bulk).toEqual(
      ups ? { supported: true, maxOperations: 100, maxPayloadSize: 409600 } : { supported: false },
    );

    const types = await h.call('GET', `${base}/ResourceTypes`);
    expect(types.status).toBe(200);
    expect(Array.isArray(types.body)).toBe(true);
    const user = (types.body as unknown as Json[])[0]!;
    expect(user).toMatchObject({ id: 'User', name: 'User', endpoint: '/Users', schema: CORE });
    expect(user.schemaExtensions).toContainEqual({ schema: ENTERPRISE, required: true });
    if (ups) expect(user.schemaExtensions).toContainEqual({ schema: SPEND, required: false });
    const one = await h.call('GET', `${base}/ResourceTypes/User`);
    expect(one.body.id).toBe('User');
    expect((await h.call('GET', `${base}/ResourceTypes/Company`)).status).toBe(404);

    const schemas = await h.call('GET', `${base}/Schemas`);
    expect(schemas.status).toBe(200);
    expect(schemas.body.schemas).toEqual(['urn:ietf:params:scim:api:messages:2.0:ListResponse']);
    const ids = (schemas.body.Resources as Json[]).map((s) => s.id);
    expect(ids).toContain(CORE);
    expect(ids).toContain(ENTERPRISE);
    if (ups) expect(ids).toContain('urn:ietf:params:scim:schemas:extension:concur:2.0:Provision:Status');
    const core = await h.call('GET', `${base}/Schemas/${CORE}`);
    expect(core.body).toMatchObject({
      id: CORE,
      name: 'User',
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:Schema'],
      meta: { resourceType: 'Schema' },
    });
    const userName = (core.body.attributes as Json[]).find((a) => a.name === 'userName');
    expect(userName).toMatchObject({ type: 'string', required: true, uniqueness: 'global' });
    const emails = (core.body.attributes as Json[]).find((a) => a.name === 'emails');
    expect(emails).toMatchObject({ type: 'complex', multiValued: true });
    expect((await h.call('GET', `${base}/Schemas/urn:nope`)).status).toBe(404);
  });

  it('needs a token', async () => {
    const res = await fetch(`${h.baseUrl}/profile/v4/ServiceProviderConfig`);
    expect(res.status).toBe(401);
  });
});

describe('ESS topics and profile events', () => {
  let receiver: ScriptedServer;
  beforeAll(async () => {
    receiver = await startScriptedServer({ fallback: () => ({ status: 200 }) });
  });
  afterAll(async () => {
    await receiver.close();
  });

  it('lists every documented topic and accepts a subscription to each', async () => {
    const appToken = await h.started.appToken();
    const ess = (method: string, path: string, body?: unknown) =>
      h.call(method, `/events/v4${path}`, body, { authorization: `Bearer ${appToken}` });
    const topics = (await ess('GET', '/topics')).body as unknown as string[];
    for (const topic of [
      'public.concur.user.provisioning',
      'public.concur.user.profile.identity',
      'public.concur.user.profile.spend',
      'public.concur.user.travel.profile',
      'public.concur.expense.report',
      'public.concur.request',
      'public.concur.financialintegration',
      'public.concur.spend.accountingintegration',
      'public.concur.document.tax.compliance',
      'public.concur.travel.itinerary',
      'public.concur.travel.book',
      'concur.travel.search',
    ])
      expect(topics).toContain(topic);
    for (const [i, topic] of topics.slice(0, 5).entries()) {
      const res = await ess('PUT', '/subscriptions/webhook', {
        id: `topic-check-${i}`,
        topic,
        webHookConfig: { endpoint: 'https://example.com/hook' },
      });
      expect(res.status, topic).toBe(200);
      await ess('DELETE', `/subscriptions/topic-check-${i}`);
    }
  });

  it('delivers identity and spend change events naming what changed', async () => {
    const appToken = await h.started.appToken();
    for (const [id, topic] of [
      ['profile.identity', 'public.concur.user.profile.identity'],
      ['profile.spend', 'public.concur.user.profile.spend'],
    ] as const) {
      const res = await h.call(
        'PUT',
        '/events/v4/subscriptions/webhook',
        { id, topic, filter: '.*', webHookConfig: { endpoint: `${receiver.url}/hook` } },
        { authorization: `Bearer ${appToken}` },
      );
      expect(res.status).toBe(200);
    }
    const created = await h.call('POST', '/profile/v4/Users', identityUser('E1', { [SPEND]: validSpend() }));
    const id = created.body.id as string;
    await h.call('PATCH', `/profile/identity/v4.1/Users/${id}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [
        { op: 'replace', path: 'title', value: 'Engineer' },
        { op: 'replace', path: `${ENTERPRISE}:department`, value: 'R&D' },
      ],
    });
    const events = (): Json[] => receiver.requests.map((r) => JSON.parse(r.body) as Json);
    await vi.waitFor(
      () => {
        const types = events().map((e) => e.eventType);
        for (const t of ['IdentityProfileCreated', 'IdentityProfileUpdated', 'SpendProfileCreated'])
          if (!types.includes(t)) throw new Error(`no ${t} yet: ${types.join(', ')}`);
      },
      { timeout: 10_000, interval: 50 },
    );
    const updated = events().find((e) => e.eventType === 'IdentityProfileUpdated')!;
    expect(updated).toMatchObject({
      topic: 'public.concur.user.profile.identity',
      subtopic: id,
      facts: { originator: 'com.concur.profile', userId: id, userHref: `${h.baseUrl}/profile/identity/v4/Users/${id}` },
    });
    expect(updated.facts.attributes).toEqual(expect.arrayContaining(['title', `${ENTERPRISE}.department`]));
    const spend = events().find((e) => e.eventType === 'SpendProfileCreated')!;
    expect(spend.facts).toMatchObject({ userId: id, originator: 'com.concur.prod.expense.ces', attributes: null });
  });
});
