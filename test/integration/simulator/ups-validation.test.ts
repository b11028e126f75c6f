import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  APPROVER,
  CORE,
  DELEGATE,
  ROLE,
  SPEND,
  TRAVEL,
  bulkOf,
  ext,
  identityUser,
  startUps,
  validSpend,
  type Json,
  type UpsHarness,
} from './ups-support.ts';

/** Sends one user through /Bulk and returns its completed operation. */
async function provisionOne(h: UpsHarness, user: Json): Promise<Json> {
  const res = await h.call('POST', '/profile/v4/Bulk', bulkOf([user]));
  expect(res.status).toBe(202);
  const done = await h.waitCompleted(res.body.meta.location);
  return done.operations[0];
}

describe('UPS extension validation (asynchronous, per extension)', () => {
  let h: UpsHarness;
  beforeAll(async () => {
    h = await startUps();
    // An approver / delegate / travel manager that exists.
    const boss = await h.call('POST', '/profile/v4/Users', identityUser('BOSS1'));
    expect(boss.status).toBe(201);
  });
  afterAll(async () => {
    await h.close();
  });

  it('fails a spend user missing required fields (merged with what is stored), naming each schemaPath', async () => {
    const op = await provisionOne(h, identityUser('V1', { [SPEND]: { country: 'US' } }));
    expect(op.status).toEqual({ completed: true, success: false, code: '207' });
    expect(ext(op, CORE).status.result).toBe('success');
    const spend = ext(op, SPEND);
    expect(spend.status).toEqual({ completed: true, success: false, code: '400', result: 'error' });
    expect(spend.messages.map((m: Json) => [m.code, m.schemaPath])).toEqual([
      ['INVALID_VALUE', `${SPEND}:reimbursementCurrency`],
      ['INVALID_VALUE', `${SPEND}:locale`],
    ]);
    expect(spend.messages[0]).toEqual({
      code: 'INVALID_VALUE',
      message: `Invalid Value: '${SPEND}:reimbursementCurrency'`,
      schemaPath: `${SPEND}:reimbursementCurrency`,
      type: 'error',
    });
    // Nothing stored for the failed extension.
    expect((await h.call('GET', `/profile/spend/v4.1/Users/${op.resource.id}`)).body[SPEND]).toBeUndefined();

    // The failed value was not stored, so a PATCH that adds only the two missing fields still lacks country.
    const patched = await h.call('PATCH', `/profile/v4/Users/${op.resource.id}`, {
      Operations: [{ op: 'add', path: `${SPEND}:`, value: { reimbursementCurrency: 'USD', locale: 'en-US' } }],
    });
    const again = (await h.waitCompleted(patched.body.meta.statusUrl)).operations[0];
    expect(ext(again, SPEND).messages.map((m: Json) => m.schemaPath)).toEqual([`${SPEND}:country`]);
  });

  it('merges a PATCH with the stored spend user before checking required fields', async () => {
    const op = await provisionOne(h, identityUser('V2', { [SPEND]: validSpend() }));
    expect(ext(op, SPEND).status.result).toBe('success');
    const patched = await h.call('PATCH', `/profile/v4/Users/${op.resource.id}`, {
      Operations: [{ op: 'replace', path: `${SPEND}:ledgerCode`, value: 'EU' }],
    });
    const again = (await h.waitCompleted(patched.body.meta.statusUrl)).operations[0];
    expect(ext(again, SPEND).status.result).toBe('success');
    expect((await h.call('GET', `/profile/spend/v4.1/Users/${op.resource.id}`)).body[SPEND]).toEqual(
      validSpend({ ledgerCode: 'EU' }),
    );
  });

  it('reports an approver, delegate or travel manager that does not exist as INVALID_USER 404', async () => {
    const op = await provisionOne(
      h,
      identityUser('V3', {
        [SPEND]: validSpend(),
        [APPROVER]: { report: [{ approver: { employeeNumber: 'NOBODY' }, primary: true }] },
        [DELEGATE]: { expense: [{ delegate: { value: '00000000-0000-4000-8000-000000000000' }, canSubmit: true }] },
        [TRAVEL]: { ruleClass: { id: 1 }, manager: { employeeNumber: 'NOBODY' } },
      }),
    );
    expect(op.status.code).toBe('207');
    expect(ext(op, SPEND).status.result).toBe('success');
    expect(ext(op, APPROVER).status).toMatchObject({ result: 'error', code: '404' });
    expect(ext(op, APPROVER).messages).toEqual([
      {
        code: 'INVALID_USER',
        message: 'Employee does not exist',
        schemaPath: `${APPROVER}:report[approver.employeeNumber eq "NOBODY"]`,
        type: 'error',
      },
    ]);
    expect(ext(op, DELEGATE).messages[0]).toMatchObject({ code: 'INVALID_USER', message: 'Employee does not exist' });
    expect(ext(op, TRAVEL).messages[0]).toMatchObject({ code: 'INVALID_USER', schemaPath: `${TRAVEL}:manager` });
  });

  it('accepts references to existing employees by employeeNumber', async () => {
    const op = await provisionOne(
      h,
      identityUser('V4', {
        [SPEND]: validSpend(),
        [APPROVER]: { report: [{ approver: { employeeNumber: 'BOSS1' }, primary: true }] },
        [TRAVEL]: { ruleClass: { id: 1 }, manager: { employeeNumber: 'BOSS1' } },
      }),
    );
    expect(op.status).toEqual({ completed: true, success: true, code: '200' });
    expect(ext(op, APPROVER).status.result).toBe('success');
  });

  it('rejects a customData value outside the configured list, an unknown role, and travel without ruleClass', async () => {
    const op = await provisionOne(
      h,
      identityUser('V5', {
        [SPEND]: validSpend({ customData: [{ id: 'custom3', value: 'NOT-A-CC' }] }),
        [TRAVEL]: { groups: [1] },
      }),
    );
    expect(ext(op, SPEND).messages).toEqual([
      {
        code: 'INVALID_VALUE',
        message: 'Invalid List Item',
        schemaPath: `${SPEND}:customData[id eq "custom3"].value`,
        type: 'error',
      },
    ]);
    expect(ext(op, TRAVEL).messages.map((m: Json) => m.schemaPath)).toEqual([`${TRAVEL}:ruleClass`]);

    const roleOp = await provisionOne(
      h,
      identityUser('V6', { [SPEND]: validSpend(), [ROLE]: { roles: [{ roleName: 'MADE_UP_ROLE' }] } }),
    );
    expect(ext(roleOp, ROLE).status.result).toBe('error');
    expect(ext(roleOp, ROLE).messages[0].schemaPath).toBe(`${ROLE}:roles[roleName eq "MADE_UP_ROLE"].roleName`);
  });

  it('reports bad code shapes as Size errors', async () => {
    const op = await provisionOne(
      h,
      identityUser('V7', { [SPEND]: validSpend({ reimbursementCurrency: 'US', country: 'USA' }) }),
    );
    expect(ext(op, SPEND).messages.map((m: Json) => m.message)).toEqual([
      `Invalid '${SPEND}:reimbursementCurrency' Size`,
      `Invalid '${SPEND}:country' Size`,
    ]);
  });

  it('takes the configured lists and role codes from the knobs', async () => {
    const before = (await h.call('GET', '/_sim/config')).body;
    await h.call('PATCH', '/_sim/config', {
      spendListItems: { custom3: ['NOT-A-CC'] },
      spendRoleCodes: ['MADE_UP_ROLE'],
    });
    try {
      const op = await provisionOne(
        h,
        identityUser('V8', {
          [SPEND]: validSpend({ customData: [{ id: 'custom3', value: 'NOT-A-CC' }] }),
          [ROLE]: { roles: [{ roleName: 'MADE_UP_ROLE' }] },
        }),
      );
      expect(op.status.success).toBe(true);
    } finally {
      await h.call('PATCH', '/_sim/config', {
        spendListItems: before.spendListItems,
        spendRoleCodes: before.spendRoleCodes,
      });
    }
  });

  it('does not process other spend extensions when the spend user fails, and needs a spend user for them', async () => {
    const op = await provisionOne(
      h,
      identityUser('V9', {
        [SPEND]: { country: 'US' },
        [ROLE]: { roles: [{ roleName: 'EXP_USER' }] },
        [TRAVEL]: { ruleClass: { id: 1 } },
      }),
    );
    expect(ext(op, ROLE).status).toMatchObject({ result: 'not-processed', success: false });
    expect(ext(op, TRAVEL).status.result).toBe('success');

    const noSpend = await provisionOne(h, identityUser('V10', { [ROLE]: { roles: [{ roleName: 'EXP_USER' }] } }));
    expect(ext(noSpend, ROLE).status.result).toBe('error');
    expect(ext(noSpend, ROLE).messages[0].schemaPath).toBe(SPEND);
  });
});
