import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  configureSimulatorForEmployeeImport,
  employeeImportFileName,
  generateEmployeeImport,
  type EmployeeImportPerson,
} from '../../src/demo/employee-import.ts';
import type { DemoSummary } from '../../src/demo/main.ts';
import { runCli } from '../../src/demo/processes.ts';
import { seedEmployeeImportPeople } from '../../src/demo/seed.ts';
import { TEST_REDIS_URL } from '../helpers/redis.ts';
import { ENT } from '../helpers/sim-data.ts';
import { startStack, STACK_AUTH, type Stack } from '../helpers/stack.ts';

const SPEND = 'urn:ietf:params:scim:schemas:extension:spend:2.0:User';
const ROLE = 'urn:ietf:params:scim:schemas:extension:spend:2.0:Role';
const APPROVER = 'urn:ietf:params:scim:schemas:extension:spend:2.0:Approver';
const LIMITS = 'urn:ietf:params:scim:schemas:extension:spend:2.0:ApproverLimit';
const DELEGATE = 'urn:ietf:params:scim:schemas:extension:spend:2.0:Delegate';
const PREFS = 'urn:ietf:params:scim:schemas:extension:spend:2.0:UserPreference';
const PAYROLL = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:Payroll';
const TRAVEL = 'urn:ietf:params:scim:schemas:extension:travel:2.0:User';
const SAP = 'urn:ietf:params:scim:schemas:extension:sap:2.0:User';

type Json = Record<string, unknown>;
type StateUser = Json & { id: string; userName: string; [ENT]: { employeeNumber: string } };

let stack: Stack | undefined;
let dir: string | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

const typed = (list: unknown, type: string): Json | undefined =>
  Array.isArray(list) ? (list as Json[]).find((x) => x.type === type) : undefined;

/** What Concur must hold for one person of the file, field by field. */
function expectPerson(u: StateUser, p: EmployeeImportPerson): void {
  const who = `${p.employeeNumber} (${p.userName})`;
  expect(u.userName, who).toBe(p.userName);
  expect(u.active, who).toBe(p.active);
  expect((u.name as Json).givenName, who).toBe(p.givenName);
  expect((u.name as Json).familyName, who).toBe(p.familyName);
  // Existing people: the file's $BLANK$ middle name cleared Concur's.
  expect((u.name as Json).middleName, who).toBe(p.middleName);
  expect(typed(u.emails, 'work')?.value, who).toBe(p.email);
  expect([...((u.entitlements as string[] | undefined) ?? [])].sort(), who).toEqual([...p.entitlements].sort());
  expect((u[SAP] as Json | undefined)?.userUuid, who).toBe(p.globalId);

  const spend = u[SPEND] as Json | undefined;
  if (p.travelOnly) {
    expect(spend, who).toBeUndefined();
  } else {
    expect(spend, who).toMatchObject({
      country: p.country,
      reimbursementCurrency: p.currency,
      locale: p.locale,
      ledgerCode: p.ledgerCode,
    });
    expect(spend?.stateProvince, who).toBe(p.stateProvince);
    // $BLANK$ in field 14 removed the cash advance account code the existing people had.
    expect(spend?.cashAdvanceAccountCode, who).toBe(p.cashAdvanceAccountCode);
    const custom = Object.fromEntries(((spend?.customData as Json[]) ?? []).map((c) => [c.id, c.value]));
    // A blank cell left custom 1 and org unit 1 as they were.
    expect(custom.custom1, who).toBe(p.custom1);
    expect(custom.orgUnit1, who).toBe(p.orgUnit1);
    expect((u[PREFS] as Json | undefined)?.expenseAuditRequired, who).toBe('REQUIRED');
    expect(spend?.reimbursementType, who).toBe(p.adp ? 'ADP_PAYROLL' : 'CONCUR_PAY');
    expect((u[PAYROLL] as Json | undefined)?.adp, who).toEqual(p.adp);
    const report = ((u[APPROVER] as Json | undefined)?.report as Json[] | undefined) ?? [];
    const primary = report.find((r) => r.primary === true);
    const second = report.find((r) => r.primary === false);
    expect((primary?.approver as Json | undefined)?.employeeNumber, who).toBe(p.reportApprover);
    expect((second?.approver as Json | undefined)?.employeeNumber, who).toBe(p.secondReportApprover);
    const roles = (((u[ROLE] as Json | undefined)?.roles as Json[] | undefined) ?? []).map((r) => ({
      roleName: r.roleName,
      roleGroups: r.roleGroups ?? [],
    }));
    expect(
      roles.sort((a, b) => String(a.roleName).localeCompare(String(b.roleName))),
      who,
    ).toEqual((p.roles ?? []).sort((a, b) => a.roleName.localeCompare(b.roleName)));
  }
  const limits = u[LIMITS] as Json | undefined;
  expect((limits?.authorizedApprover as Json[] | undefined) ?? [], who).toEqual(p.approverLimits ?? []);
  expect((limits?.costObjectApprover as Json[] | undefined) ?? [], who).toEqual(p.costObjectApprover ?? []);
  const delegates = ((u[DELEGATE] as Json | undefined)?.expense as Json[] | undefined) ?? [];
  if (p.delegate) {
    expect(delegates, who).toEqual([
      {
        delegate: { employeeNumber: p.delegate.employeeNumber },
        canPrepare: true,
        canSubmit: true,
        canReceiveEmail: true,
      },
    ]);
  } else expect(delegates, who).toEqual([]);

  const travel = u[TRAVEL] as Json | undefined;
  if (!p.travel) {
    expect(travel, who).toBeUndefined();
    return;
  }
  expect(travel, who).toMatchObject({ ruleClass: { name: p.travel.ruleClass }, gender: p.travel.gender });
  expect(u.title, who).toBe(p.travel.title);
  expect(u.nickName, who).toBe(p.givenName.slice(0, 3));
  expect(u.dateOfBirth, who).toBe('1980-01-31');
  expect((u.name as Json).honorificPrefix, who).toBe('Dr');
  expect(typed(u.phoneNumbers, 'work')?.value, who).toBe(p.travel.workPhone);
  expect(typed(u.phoneNumbers, 'mobile'), who).toMatchObject({ value: p.travel.mobile, primary: true });
  // Existing people had a fax: the 350's $BLANK$ Work Fax removed it.
  expect(typed(u.phoneNumbers, 'fax'), who).toBeUndefined();
  expect(typed(u.addresses, 'home'), who).toMatchObject({ locality: 'Seattle', region: 'WA', country: 'US' });
  const glcode = ((travel?.customFields as Json[] | undefined) ?? []).find((f) => f.name === 'GLCODE');
  expect(glcode?.value, who).toMatch(/^\d+$/);
}

describe('a legacy Concur employee import, unchanged, as a drop (e2e)', () => {
  it(
    'runs a realistic file end to end: every person holds what the file says, field by field; lines in error and unsupported records are reported per line',
    { timeout: 180_000 },
    async () => {
      stack = await startStack({ server: true });
      await configureSimulatorForEmployeeImport(stack.simUrl);
      const drop = generateEmployeeImport({ people: 60, seed: 7 });
      await seedEmployeeImportPeople(stack.simUrl, drop.existing);
      dir = mkdtempSync(join(tmpdir(), 'ei-e2e-'));
      const path = join(dir, employeeImportFileName('t0001test', new Date(Date.UTC(2024, 0, 2, 3, 4, 5))));
      // As customers' files are: a UTF-8 BOM, CRLF, no header.
      writeFileSync(path, `\uFEFF${drop.text}`);

      // A plan first: it reads Concur, sends nothing, and knows who is new and who is updated.
      const planned = await runCli(['ingest', path, '--plan', '--json'], stack.env);
      const plan = JSON.parse(planned.stdout.trim() || '{}') as { plan: Record<string, number> };
      expect(plan.plan, planned.stderr).toMatchObject({
        create: drop.people.length - drop.existing.length,
        update: drop.existing.length - drop.expected.deactivated.length,
        deactivate: drop.expected.deactivated.length,
        invalid: drop.expected.invalidLines,
        unsupported: drop.expected.unsupportedLines,
      });

      // Running it: the planned rows, without reading the file again.
      const ingest = await runCli(['ingest', path, '--wait', '--json'], stack.env);
      const summary = JSON.parse(ingest.stdout.trim() || '{}') as { rows: number; states: Record<string, number> };
      expect(planned.stderr).toContain("passwords are ignored: Concur's v4 APIs provision none");
      const settled = Object.fromEntries(Object.entries(summary.states).filter(([, n]) => n > 0));
      expect(settled, ingest.stderr + (await stack.logs())).toEqual({
        done: drop.people.length,
        invalid: drop.expected.invalidLines,
        unsupported: drop.expected.unsupportedLines,
      });

      const state = (await (await fetch(`${stack.simUrl}/_sim/state`)).json()) as { users: StateUser[] };
      const byNumber = new Map(state.users.map((u) => [u[ENT].employeeNumber, u]));
      // The 320 changed the existing person's Employee ID and login: the same Concur person, renamed.
      expect(drop.idChanges).toHaveLength(1);
      for (const change of drop.idChanges) {
        expect(byNumber.get(change.from), change.from).toBeUndefined();
        expect(byNumber.get(change.to)?.userName).toBe(change.userName);
      }
      expect(state.users).toHaveLength(drop.people.length);
      for (const p of drop.people) {
        const u = byNumber.get(p.employeeNumber);
        expect(u, p.employeeNumber).toBeDefined();
        expectPerson(u!, p);
      }

      // The report keeps the legacy line numbers; every line in error or unsupported is a row of its own.
      const auth = `Basic ${Buffer.from(`${STACK_AUTH.user}:${STACK_AUTH.password}`).toString('base64')}`;
      const dropId = (JSON.parse(ingest.stdout) as { dropId: string }).dropId;
      const report = await (
        await fetch(`${stack.serverUrl}/drops/${dropId}/report?format=jsonl`, { headers: { authorization: auth } })
      ).text();
      const records = report
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, string>);
      const unsupported = records.filter((r) => r.state === 'unsupported');
      expect(unsupported.map((r) => r.message!.match(/record (\d+) \(/)?.[1]).sort()).toEqual(
        expect.arrayContaining(['1000', '650', '810', '910']),
      );
      for (const r of unsupported) expect(r.lines).toMatch(/^\d+$/);
      const invalid = records.filter((r) => r.state === 'invalid');
      expect(invalid).toHaveLength(drop.expected.invalidLines);
      for (const r of invalid) expect(r.message).toMatch(/line \d+: record 350 field 8 \(Date of Birth\): '19801345'/);
      const person = records.find((r) => r.employeeNumber === drop.people[1]!.employeeNumber)!;
      expect(person.lines!.split(' ').length).toBeGreaterThan(1);
    },
  );

  it(
    'provision demo --format employee-import generates such a file and runs it to completion',
    { timeout: 180_000 },
    async () => {
      const res = await runCli(['demo', '--format', 'employee-import', '--people', '80', '--exit', '--json'], {
        ...process.env,
        REDIS_URL: TEST_REDIS_URL,
      });
      expect(res.code, res.stderr).toBe(0);
      const summary = JSON.parse(res.stdout.trim()) as DemoSummary;
      expect(summary.status).toBe('complete');
      expect(summary.states).toEqual({
        done: summary.generated.people,
        invalid: summary.generated.bad,
        unsupported: summary.generated.unsupported,
      });
      expect(summary.generated.existing).toBeGreaterThan(0);
      expect(summary.generated.deactivated).toBeGreaterThan(0);
    },
  );
});
