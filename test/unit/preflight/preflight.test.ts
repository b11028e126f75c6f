import { describe, expect, it } from 'vitest';
import type { ConcurList, ConcurListItem, ConcurUser } from '../../../src/shared/concur/index.ts';
import { roleCodesOf } from '../../../src/shared/concur/spend.ts';
import { ProvError } from '../../../src/shared/errors.ts';
import type { LookupResult } from '../../../src/shared/identity/lookup.ts';
import type { NormalizedRow } from '../../../src/shared/mapping/types.ts';
import { loadCompanyCatalog, type CompanyCatalog } from '../../../src/shared/preflight/catalog.ts';
import { extensionFlags } from '../../../src/shared/preflight/checks.ts';
import { flagsFail } from '../../../src/shared/preflight/flags.ts';
import { predictBatch, type PredictContext } from '../../../src/shared/preflight/predict.ts';
import { ReferenceForecast } from '../../../src/shared/preflight/references.ts';
import { SpendUserProbe } from '../../../src/shared/preflight/spend-users.ts';

const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const SPEND = 'urn:ietf:params:scim:schemas:extension:spend:2.0:User';
const at = { file: 'hr.csv', row: 7 };

function row(n: number, extra: Partial<NormalizedRow> = {}): NormalizedRow {
  return {
    rowNumber: n,
    userName: `p${n}@example.com`,
    employeeNumber: `E${n}`,
    givenName: 'G',
    familyName: 'F',
    email: `p${n}@example.com`,
    ...extra,
  };
}

function people(...users: { id: string; n: string }[]): LookupResult {
  const r: LookupResult = { byUserName: new Map(), byEmployeeNumber: new Map() };
  for (const u of users) {
    const user = { id: u.id, userName: `p${u.n.slice(1)}@example.com`, active: true, [ENT]: { employeeNumber: u.n } };
    r.byUserName.set(user.userName, user as ConcurUser);
    r.byEmployeeNumber.set(u.n, user as ConcurUser);
  }
  return r;
}

const catalog: CompanyCatalog = {
  roleCodes: new Set(['EXP_USER', 'EXP_APPROVER']),
  listCodes: new Map([['custom3', { list: 'Cost Centers', codes: new Set(['CC100']) }]]),
  ledgerCodes: new Set(['DEFAULT']),
  notes: [],
};
const spendUser = { country: 'US', reimbursementCurrency: 'USD', locale: 'en-US' };

describe('roleCodesOf', () => {
  it('reads the codes whatever the answer looks like', () => {
    expect(roleCodesOf(['EXP_USER', 'not a code'])).toEqual(['EXP_USER']);
    expect(
      roleCodesOf({
        schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'],
        totalResults: 2,
        Resources: [
          { roleCode: 'EXP_USER', roleName: 'Expense User', productAreas: ['Expense'], exclusiveWith: ['X_RO'] },
          { roleCode: 'SHD_TAX_ADMIN', roleName: 'Tax Administrator' },
        ],
      }),
    ).toEqual(['EXP_USER', 'SHD_TAX_ADMIN']);
    expect(roleCodesOf({ Expense: [{ code: 'EXP_APPROVER' }], Invoice: [{ roleName: 'INV_APPROVER' }] })).toEqual([
      'EXP_APPROVER',
      'INV_APPROVER',
    ]);
  });
});

describe('extension checks', () => {
  it('flags codes Concur does not have, naming file, row and field', () => {
    const flags = extensionFlags(
      row(7, {
        spend: {
          ...spendUser,
          roles: ['EXP_USER', 'NOPE', 'NADA'],
          customData: { custom3: 'CC999', custom1: 'free text' },
          ledgerCode: 'EU',
        },
      }),
      catalog,
      at,
    );
    expect(flags.map((f) => [f.code, f.severity, f.field])).toEqual([
      ['ROLE_UNKNOWN', 'fail', 'spend.roles'],
      ['LIST_ITEM_UNKNOWN', 'fail', 'spend.customData.custom3'],
      ['LEDGER_UNKNOWN', 'fail', 'spend.ledgerCode'],
    ]);
    expect(flags[0]?.message).toBe(
      "hr.csv row 7: spend.roles: NOPE, NADA are not in Concur's role catalogue (roleCodes)",
    );
    expect(flags[1]?.message).toContain("'CC999' is not a code of Concur's list 'Cost Centers'");
  });

  it('judges nothing it could not read (no guessed failures)', () => {
    const unknown: CompanyCatalog = { roleCodes: undefined, listCodes: new Map(), ledgerCodes: undefined, notes: [] };
    const r = row(7, { spend: { ...spendUser, roles: ['NOPE'], customData: { custom3: 'X' }, ledgerCode: 'EU' } });
    expect(extensionFlags(r, unknown, at)).toEqual([]);
  });
});

describe('the company catalogue', () => {
  const lists: ConcurList[] = [
    { id: 'l1', value: 'Cost Centers' },
    { id: 'l2', value: 'Org Units' },
  ];
  const items: Record<string, ConcurListItem[]> = {
    l1: [{ id: 'i1', code: 'CC100', shortCode: 'CC100' }],
    l2: [{ id: 'i2', code: 'OU1', shortCode: 'OU1' }],
  };
  const sources = (roleCodes: () => Promise<string[]>) => ({
    spend: { roleCodes },
    lists: {
      lists: async function* () {
        yield* lists;
      },
      items: async function* (id: string) {
        yield* items[id] ?? [];
      },
    },
    call: <T>(fn: () => Promise<T>) => fn(),
  });

  it('reads roles, the lists bound to fields (by name, any case, or id) and the configured ledgers', async () => {
    const c = await loadCompanyCatalog(
      sources(async () => ['EXP_USER']),
      {
        listFields: { custom3: 'cost centers', orgUnit1: 'l2', custom9: 'Missing List' },
        ledgerCodes: ['DEFAULT'],
      },
    );
    expect([...(c.roleCodes ?? [])]).toEqual(['EXP_USER']);
    expect([...c.listCodes.entries()].map(([f, l]) => [f, l.list, [...l.codes]])).toEqual([
      ['custom3', 'Cost Centers', ['CC100']],
      ['orgUnit1', 'Org Units', ['OU1']],
    ]);
    expect([...(c.ledgerCodes ?? [])]).toEqual(['DEFAULT']);
    expect(c.notes).toEqual([
      "spend.customData.custom9 not checked: Concur has no list named 'Missing List' (CONCUR_LIST_FIELDS)",
    ]);
  });

  it('turns a Concur refusal into a note, not a failed plan', async () => {
    const c = await loadCompanyCatalog(
      sources(async () => {
        throw new ProvError('PROV_ERR_NOT_FOUND', 'nope', { statusCode: 404 });
      }),
      { listFields: {} },
    );
    expect(c.roleCodes).toBeUndefined();
    expect(c.notes).toEqual([
      "spend.roles not checked: Concur's role catalogue (roleCodes) could not be read (PROV_ERR_NOT_FOUND 404)",
    ]);
  });
});

describe('predictBatch', () => {
  function context(spendUsers: Record<string, boolean> = {}, inDrop: Record<string, number> = {}): PredictContext {
    return {
      file: 'hr.csv',
      catalog,
      references: new ReferenceForecast(),
      spendUsers: new SpendUserProbe({ getUser: async (id) => (spendUsers[id] ? { [SPEND]: spendUser } : {}) }, (fn) =>
        fn(),
      ),
      inDrop: async (n) => inDrop[n],
    };
  }

  it('flags references found nowhere (approvers fail, a manager is only a note)', async () => {
    const ctx = context();
    const [p] = await predictBatch(
      [row(1, { managerEmployeeNumber: 'E9', spend: { ...spendUser, reportApproverEmployeeNumber: 'E8' } })],
      people(),
      ctx,
    );
    expect(p?.flags.map((f) => [f.code, f.severity, f.field])).toEqual([
      ['MANAGER_NOT_FOUND', 'warn', 'managerEmployeeNumber'],
      ['REFERENCE_NOT_FOUND', 'fail', 'spend.reportApproverEmployeeNumber'],
    ]);
  });

  it('needs a spend user for roles: a new person never has one, an existing one is asked', async () => {
    const ctx = context({ u2: true, u3: false });
    const out = await predictBatch(
      [
        row(1, { spend: { roles: ['EXP_USER'] } }),
        row(2, { spend: { roles: ['EXP_USER'] } }),
        row(3, { spend: { roles: ['EXP_USER'] } }),
        row(4, { spend: { ...spendUser, roles: ['EXP_USER'] } }),
      ],
      people({ id: 'u2', n: 'E2' }, { id: 'u3', n: 'E3' }),
      ctx,
    );
    expect(out.map((p) => p.flags.map((f) => f.code))).toEqual([
      ['SPEND_USER_REQUIRED'],
      [],
      ['SPEND_USER_REQUIRED'],
      [],
    ]);
  });

  it('a reference to a drop row that will give no person fails, before or after it in the file', async () => {
    const ctx = context({}, { E1: 1, E5: 5, E6: 6 });
    const first = await predictBatch(
      [
        // E1 carries E2's login: a conflict, no person.
        row(1, { userName: 'p2@example.com' }),
        row(2, { spend: { ...spendUser, reportApproverEmployeeNumber: 'E1' } }),
        row(3, { spend: { ...spendUser, reportApproverEmployeeNumber: 'E5' } }),
        row(4, { spend: { ...spendUser, reportApproverEmployeeNumber: 'E6' } }),
      ],
      people({ id: 'u2', n: 'E2' }),
      ctx,
    );
    expect(first.map((p) => p.flags.map((f) => f.code))).toEqual([
      ['IDENTITY_CONFLICT'],
      ['REFERENCE_WILL_FAIL'],
      [],
      [],
    ]);
    // Later rows: E5 deactivates someone Concur does not have (no person), E6 is created.
    const second = await predictBatch([row(5, { active: false }), row(6)], people(), ctx);
    expect(second.map((p) => p.flags.map((f) => f.code))).toEqual([['DEACTIVATE_ABSENT'], []]);
    const late = ctx.references.resolveForward();
    expect([...late.keys()]).toEqual([3]);
    expect(late.get(3)?.[0]?.message).toBe(
      'hr.csv row 3: spend.reportApproverEmployeeNumber: E5 is row 5 of this drop, which will not give a Concur person (see that row)',
    );
    expect(flagsFail(late.get(3))).toBe(true);
  });

  it('a row that writes no identity sends nothing else: only its own flag', async () => {
    const [p] = await predictBatch(
      [row(1, { active: false, spend: { roles: ['NOPE'], reportApproverEmployeeNumber: 'E77' } })],
      people(),
      context(),
    );
    expect(p?.flags.map((f) => f.code)).toEqual(['DEACTIVATE_ABSENT']);
    expect(flagsFail(p?.flags)).toBe(false);
  });
});
