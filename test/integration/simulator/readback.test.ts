import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APPROVER, ROLE, SPEND, TRAVEL, identityUser, startUps, validSpend, type UpsHarness } from './ups-support.ts';

const PAYROLL = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:Payroll';

describe('Spend v4.1 and Travel v4 read-back', () => {
  let h: UpsHarness;
  beforeAll(async () => {
    h = await startUps();
  });
  afterAll(async () => {
    await h.close();
  });

  it('returns the stored extensions under their URNs', async () => {
    const boss = await h.call('POST', '/profile/v4/Users', identityUser('R0'));
    const travel = {
      ruleClass: { id: 624905 },
      groups: [143519480],
      manager: { employeeNumber: 'R0' },
      customFields: [{ name: 'Travel Custom Field 1', value: '484' }],
    };
    const spend = validSpend({
      stateProvince: 'WA',
      ledgerCode: 'DEFAULT',
      reimbursementType: 'ADP_PAYROLL',
      customData: [
        { id: 'custom1', value: 'testing' },
        { id: 'orgUnit1', value: 'testDepartment' },
      ],
    });
    const created = await h.call(
      'POST',
      '/profile/v4/Users',
      identityUser('R1', {
        [SPEND]: spend,
        [ROLE]: { roles: [{ roleName: 'EXP_APPROVER', roleGroups: [] }] },
        [APPROVER]: { report: [{ approver: { value: boss.body.id, employeeNumber: 'R0' }, primary: true }] },
        [PAYROLL]: { adp: { companyCode: 'C1', deductionCode: 'D1', employeeFileNumber: 'F1' } },
        [TRAVEL]: travel,
      }),
    );
    const done = await h.waitCompleted(created.body.meta.statusUrl);
    expect(done.status.success).toBe(true);
    const id = created.body.id as string;

    const spendRead = await h.call('GET', `/profile/spend/v4.1/Users/${id}`);
    expect(spendRead.status).toBe(200);
    expect(spendRead.body).toEqual({
      schemas: ['urn:com.concur.spend.user.model.scim.ScimResource', SPEND, ROLE, APPROVER, PAYROLL],
      id,
      [SPEND]: spend,
      [ROLE]: { roles: [{ roleName: 'EXP_APPROVER', roleGroups: [] }] },
      [APPROVER]: { report: [{ approver: { value: boss.body.id, employeeNumber: 'R0' }, primary: true }] },
      [PAYROLL]: { adp: { companyCode: 'C1', deductionCode: 'D1', employeeFileNumber: 'F1' } },
    });
    const travelRead = await h.call('GET', `/profile/travel/v4/Users/${id}/`);
    expect(travelRead.body).toEqual({ schemas: [TRAVEL], id, [TRAVEL]: travel });
    // The whole user in /_sim/state carries the extensions as top-level keys too.
    const state = (await h.call('GET', '/_sim/state')).body.users as Record<string, unknown>[];
    expect(state.find((u) => u.id === id)?.[TRAVEL]).toEqual(travel);
  });

  it('answers 404 for an unknown user', async () => {
    for (const path of ['/profile/spend/v4.1/Users/', '/profile/travel/v4/Users/']) {
      const res = await h.call('GET', `${path}00000000-0000-4000-8000-000000000000`);
      expect(res.status).toBe(404);
      expect(res.body.status).toBe('404');
    }
  });
});
