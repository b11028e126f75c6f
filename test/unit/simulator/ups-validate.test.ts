import { describe, expect, it } from 'vitest';
import type { StoredUser } from '../../../src/simulator/context.ts';
import { resolveKnobs } from '../../../src/simulator/knobs.ts';
import { extensionErrorCode, validateExtension, type ValidationEnv } from '../../../src/simulator/ups/validate.ts';

const SPEND = 'urn:ietf:params:scim:schemas:extension:spend:2.0:User';
const ROLE = 'urn:ietf:params:scim:schemas:extension:spend:2.0:Role';
const APPROVER = 'urn:ietf:params:scim:schemas:extension:spend:2.0:Approver';
const DELEGATE = 'urn:ietf:params:scim:schemas:extension:spend:2.0:Delegate';
const TRAVEL = 'urn:ietf:params:scim:schemas:extension:travel:2.0:User';
const PAYROLL = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:Payroll';

const user = (id: string, active = true): StoredUser => ({
  resource: { id, userName: `${id}@x`, active },
  companyId: 'c',
  extensions: {},
});
const users = [user('u-1'), user('u-2', false)];
/** Employee numbers of the two users. */
const numbers: Record<string, string> = { '100': 'u-1', '200': 'u-2' };
const knobs = resolveKnobs();
const env: ValidationEnv = {
  userById: (id) => users.find((u) => u.resource.id === id),
  userByEmployeeNumber: (n) => users.find((u) => u.resource.id === numbers[n]),
  roleCodes: knobs.spendRoleCodes,
  listItems: knobs.spendListItems,
  ledgerCodes: knobs.spendLedgerCodes,
};
const validSpend = { reimbursementCurrency: 'USD', country: 'US', locale: 'en-US' };

describe('validateExtension', () => {
  it('accepts a complete spend user with a listed custom value', () => {
    expect(
      validateExtension(
        SPEND,
        {
          ...validSpend,
          customData: [
            { id: 'custom3', value: 'CC200' },
            { id: 'custom1', value: 'free' },
          ],
        },
        env,
      ),
    ).toEqual([]);
  });

  it('names each missing required spend field by schemaPath', () => {
    const messages = validateExtension(SPEND, { country: 'US' }, env);
    expect(messages.map((m) => m.schemaPath)).toEqual([`${SPEND}:reimbursementCurrency`, `${SPEND}:locale`]);
    expect(messages.every((m) => m.code === 'INVALID_VALUE' && m.type === 'error')).toBe(true);
  });

  it('reports code shapes as Size or Invalid Value', () => {
    const messages = validateExtension(SPEND, { ...validSpend, reimbursementCurrency: 'USDX', country: 'us' }, env);
    expect(messages.map((m) => m.message)).toEqual([
      `Invalid '${SPEND}:reimbursementCurrency' Size`,
      `Invalid Value: '${SPEND}:country'`,
    ]);
  });

  it('rejects a customData value outside the configured list', () => {
    const messages = validateExtension(SPEND, { ...validSpend, customData: [{ id: 'custom3', value: 'CC999' }] }, env);
    expect(messages).toEqual([
      {
        code: 'INVALID_VALUE',
        message: 'Invalid List Item',
        schemaPath: `${SPEND}:customData[id eq "custom3"].value`,
        type: 'error',
      },
    ]);
  });

  it('rejects a ledgerCode the company does not have, as Concur refuses an unknown ledger', () => {
    expect(validateExtension(SPEND, { ...validSpend, ledgerCode: 'DEFAULT' }, env)).toEqual([]);
    expect(validateExtension(SPEND, { ...validSpend, ledgerCode: 'NOLEDGER' }, env)).toEqual([
      {
        code: 'INVALID_VALUE',
        message: `Invalid Value: '${SPEND}:ledgerCode'`,
        schemaPath: `${SPEND}:ledgerCode`,
        type: 'error',
      },
    ]);
  });

  it('rejects unknown role codes', () => {
    const messages = validateExtension(ROLE, { roles: [{ roleName: 'EXP_USER' }, { roleName: 'NOPE' }] }, env);
    expect(messages).toHaveLength(1);
    expect(messages[0]?.schemaPath).toBe(`${ROLE}:roles[roleName eq "NOPE"].roleName`);
  });

  it('resolves approvers by employeeNumber or value and reports missing ones as INVALID_USER 404', () => {
    expect(
      validateExtension(APPROVER, { report: [{ approver: { employeeNumber: '100' }, primary: true }] }, env),
    ).toEqual([]);
    const messages = validateExtension(
      APPROVER,
      { report: [{ approver: { employeeNumber: '999' }, primary: true }], request: [{ approver: { value: 'u-9' } }] },
      env,
    );
    expect(messages.map((m) => [m.code, m.message, m.schemaPath])).toEqual([
      ['INVALID_USER', 'Employee does not exist', `${APPROVER}:report[approver.employeeNumber eq "999"]`],
      ['INVALID_USER', 'Employee does not exist', `${APPROVER}:request[approver.value eq "u-9"]`],
    ]);
    expect(extensionErrorCode(messages)).toBe('404');
  });

  it('allows non-primary approvers only for report and request', () => {
    expect(
      validateExtension(APPROVER, { cashAdvance: [{ approver: { value: 'u-1' }, primary: false }] }, env),
    ).toHaveLength(1);
    expect(validateExtension(APPROVER, { request: [{ approver: { value: 'u-1' }, primary: false }] }, env)).toEqual([]);
  });

  it('requires delegates to exist and be active', () => {
    expect(
      validateExtension(DELEGATE, { expense: [{ delegate: { employeeNumber: '100' }, canSubmit: true }] }, env),
    ).toEqual([]);
    expect(validateExtension(DELEGATE, { expense: [{ delegate: { employeeNumber: '200' } }] }, env)[0]?.message).toBe(
      'Employee is not active',
    );
    expect(validateExtension(DELEGATE, { expense: [{ delegate: { employeeNumber: '300' } }] }, env)[0]?.code).toBe(
      'INVALID_USER',
    );
  });

  it('requires a travel ruleClass and an existing travel manager', () => {
    expect(
      validateExtension(TRAVEL, { ruleClass: { id: 624905 }, groups: [1], manager: { employeeNumber: '100' } }, env),
    ).toEqual([]);
    expect(validateExtension(TRAVEL, { groups: [1] }, env).map((m) => m.schemaPath)).toEqual([`${TRAVEL}:ruleClass`]);
    expect(
      validateExtension(TRAVEL, { ruleClass: { name: 'Default' }, manager: { employeeNumber: '404' } }, env)[0]?.code,
    ).toBe('INVALID_USER');
  });

  it('requires every ADP payroll field', () => {
    expect(
      validateExtension(PAYROLL, { adp: { companyCode: 'A', deductionCode: 'B' } }, env).map((m) => m.schemaPath),
    ).toEqual([`${PAYROLL}:adp.employeeFileNumber`]);
  });
});
