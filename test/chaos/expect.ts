import { expect } from 'vitest';
import type { DemoRecord } from '../../src/demo/generate.ts';
import { ACTIVE_STATES, TERMINAL_STATES } from '../../src/shared/ledger/states.ts';
import type { ChaosResult, SimStateUser } from './harness.ts';

const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const SPEND = 'urn:ietf:params:scim:schemas:extension:spend:2.0:User';
const ROLE = 'urn:ietf:params:scim:schemas:extension:spend:2.0:Role';
const APPROVER = 'urn:ietf:params:scim:schemas:extension:spend:2.0:Approver';
const TRAVEL = 'urn:ietf:params:scim:schemas:extension:travel:2.0:User';

/** What Concur must hold for one valid row of the generated drop. */
function expectUser(u: SimStateUser, r: DemoRecord): void {
  const ctx = `${r.userName} (${r.employeeNumber})`;
  expect(u.active, ctx).toBe(r.active === 'true');
  expect(u.name?.givenName, ctx).toBe(r.givenName);
  expect(u.name?.familyName, ctx).toBe(r.familyName);
  expect(u.title, ctx).toBe(r.title);
  expect((u.emails as { value: string }[] | undefined)?.[0]?.value, ctx).toBe(r.email);
  const ent = u[ENT] as {
    employeeNumber?: string;
    department?: string;
    costCenter?: string;
    manager?: { employeeNumber?: string };
  };
  expect(ent.employeeNumber, ctx).toBe(r.employeeNumber);
  if (r.active !== 'true') return; // deactivation sends no profile update beyond active=false
  expect(ent.department, ctx).toBe(r.department);
  expect(ent.costCenter, ctx).toBe(r.costCenter);
  expect(ent.manager?.employeeNumber, ctx).toBe(r.managerEmployeeNumber || undefined);
  const spend = u[SPEND] as { country?: string; reimbursementCurrency?: string; locale?: string } | undefined;
  expect(spend, ctx).toMatchObject({
    country: r['spend.country'],
    reimbursementCurrency: r['spend.reimbursementCurrency'],
    locale: r['spend.locale'],
  });
  const roles = ((u[ROLE] as { roles?: { roleName: string }[] } | undefined)?.roles ?? [])
    .map((x) => x.roleName)
    .sort();
  expect(roles, ctx).toEqual(r['spend.roles'].split(';').sort());
  const approver = (u[APPROVER] as { report?: { approver: { employeeNumber: string } }[] } | undefined)?.report?.[0]
    ?.approver.employeeNumber;
  expect(approver, ctx).toBe(r['spend.reportApproverEmployeeNumber'] || undefined);
  const travel = u[TRAVEL] as { ruleClass?: { name?: string }; manager?: { employeeNumber?: string } } | undefined;
  if (r['travel.ruleClass']) {
    expect(travel?.ruleClass?.name, ctx).toBe(r['travel.ruleClass']);
    expect(travel?.manager?.employeeNumber, ctx).toBe(r['travel.managerEmployeeNumber'] || undefined);
  }
}

/** The bar: every row settled once, the report adds up, Concur holds each person once, as the file says. */
export function expectChaosOutcome(result: ChaosResult): void {
  const { counts, rows, drop } = result;
  let sum = 0;
  for (const s of TERMINAL_STATES) sum += counts[s] ?? 0;
  expect(sum).toBe(rows);
  for (const s of ACTIVE_STATES) expect(counts[s], s).toBe(0);
  expect(counts.invalid).toBe(drop.bad.length);
  // Concur's unreliability fails no row: every valid row ends done (unchanged for an untouched
  // person), except the ones whose userName another company holds, which say so.
  const foreign = new Set(result.foreign);
  expect(result.foreignOutcomes).toEqual(
    result.foreign.map((row) => ({ row, state: 'identity_failed', code: 'PROV_ERR_USERNAME_TAKEN' })),
  );
  expect(counts.identity_failed ?? 0).toBe(foreign.size);
  expect(counts.extension_failed ?? 0).toBe(0);
  expect((counts.done ?? 0) + (counts.unchanged ?? 0)).toBe(rows - drop.bad.length - foreign.size);

  expect(result.reportRows).toBe(rows);
  expect(Object.values(result.reportStates).reduce((a, b) => a + b, 0)).toBe(rows);
  for (const [state, n] of Object.entries(result.reportStates)) expect(n, state).toBe(counts[state]);

  expect(result.unsettledFailedRows).toEqual([]);

  const byName = new Map<string, SimStateUser[]>();
  for (const u of result.simUsers)
    byName.set(u.userName.toLowerCase(), [...(byName.get(u.userName.toLowerCase()) ?? []), u]);
  const dups = [...byName.entries()].filter(([, us]) => us.length > 1).map(([n]) => n);
  expect(dups).toEqual([]);
  const badRows = new Set(drop.bad.map((b) => b.row));
  const expected = drop.records.filter((_, i) => !badRows.has(i + 1) && !foreign.has(i + 1));
  for (const r of expected) {
    const found = byName.get(r.userName.toLowerCase());
    expect(found, `missing ${r.userName}`).toBeDefined();
    expectUser(found![0]!, r);
  }
  // Nobody else: bad rows were never sent (unless the person existed before the drop).
  const existing = new Set(drop.existing.map((e) => e.userName.toLowerCase()));
  const allowed = new Set([...expected.map((r) => r.userName.toLowerCase()), ...existing]);
  expect(result.simUsers.filter((u) => !allowed.has(u.userName.toLowerCase())).map((u) => u.userName)).toEqual([]);
}
