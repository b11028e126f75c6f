import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/demo/processes.ts';
import { person, writeCsvDrop, type DropRecord } from '../helpers/drops.ts';
import { startStack, type Stack } from '../helpers/stack.ts';

const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const SPEND = 'urn:ietf:params:scim:schemas:extension:spend:2.0:User';

let stack: Stack | undefined;

afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

/** The simulator's company token (password grant, the simulator's default credentials). */
async function companyToken(simUrl: string): Promise<string> {
  const res = await fetch(`${simUrl}/oauth2/v0/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      client_id: 'sim-client-id',
      client_secret: 'sim-client-secret',
      grant_type: 'password',
      username: 'aa076ada-80a9-4f57-8e98-9300b1c3171d',
      password: 'sim-request-token',
      credtype: 'authtoken',
    }),
  });
  return ((await res.json()) as { access_token: string }).access_token;
}

/** Concur's state before the drop: people created through Identity, some given a spend user through UPS. */
async function seed(
  simUrl: string,
  people: { userName: string; employeeNumber: string; active?: boolean; spendUser?: boolean }[],
): Promise<void> {
  const token = await companyToken(simUrl);
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  for (const p of people) {
    const res = await fetch(`${simUrl}/profile/identity/v4.1/Users`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:User', ENT],
        userName: p.userName,
        active: p.active ?? true,
        name: { givenName: 'Seed', familyName: p.employeeNumber },
        emails: [{ value: p.userName, type: 'work' }],
        [ENT]: { employeeNumber: p.employeeNumber, department: 'Engineering' },
      }),
    });
    const user = (await res.json()) as { id: string };
    if (res.status !== 200) throw new Error(`seed failed: ${res.status} ${JSON.stringify(user)}`);
    if (!p.spendUser) continue;
    const patched = await fetch(`${simUrl}/profile/v4/Users/${user.id}`, {
      method: 'PATCH',
      headers,
      body: JSON.stringify({
        schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
        Operations: [
          { op: 'add', value: { [SPEND]: { country: 'US', reimbursementCurrency: 'USD', locale: 'en-US' } } },
        ],
      }),
    });
    const statusUrl = ((await patched.json()) as { meta: { statusUrl: string } }).meta.statusUrl;
    for (let i = 0; ; i++) {
      const s = (await (await fetch(statusUrl, { headers })).json()) as {
        status?: { completed?: boolean; success?: boolean };
      };
      if (s.status?.completed) {
        if (!s.status.success) throw new Error('seeding a spend user failed');
        break;
      }
      if (i > 200) throw new Error('seeding a spend user did not complete');
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

const spend = {
  'spend.country': 'US',
  'spend.reimbursementCurrency': 'USD',
  'spend.locale': 'en-US',
  'spend.ledgerCode': 'DEFAULT',
  'spend.customData.custom3': 'CC100',
  'spend.customData.orgUnit1': 'OU1',
  'spend.roles': 'EXP_USER',
};

/**
 * A drop with every kind of mistake the plan should see, and rows that must go through. Returns the
 * rows and, by row number, the mistakes the run will fail on (for the figures below).
 */
function mistakesDrop(): { rows: DropRecord[]; kinds: Map<number, string> } {
  const rows: DropRecord[] = [];
  const kinds = new Map<number, string>();
  const add = (r: DropRecord, kind?: string): void => {
    rows.push(r);
    if (kind) kinds.set(rows.length, kind);
  };
  // Good: new people with every spend field, approved by someone Concur has or a later row of the drop.
  for (let n = 101; n <= 130; n++)
    add(
      person(n, {
        ...spend,
        'spend.reportApproverEmployeeNumber': n <= 110 ? `E${n + 30}` : 'E1',
        'travel.ruleClass': 'Standard',
        'travel.managerEmployeeNumber': n <= 110 ? `E${n + 30}` : 'E2',
        managerEmployeeNumber: n <= 110 ? `E${n + 30}` : 'E3',
      }),
    );
  // Good: updates of people Concur has; one of them deactivated.
  for (let n = 1; n <= 20; n++) add(person(n, { department: 'Finance', ...(n === 20 ? { active: 'false' } : {}) }));
  // Good: roles only, for a person who already has a spend user.
  add(person(21, { 'spend.roles': 'EXP_USER;EXP_APPROVER' }));
  // Good: new people the first ten rows refer to.
  for (let n = 131; n <= 140; n++) add(person(n, spend));

  for (let n = 1; n <= 5; n++)
    add(person(200 + n, { ...spend, 'spend.reportApproverEmployeeNumber': `GHOST${n}` }), 'approver nowhere');
  for (let n = 1; n <= 5; n++)
    add(person(210 + n, { ...spend, 'spend.roles': 'EXP_USER;INV_APPROVER' }), 'role not in the catalogue');
  for (let n = 1; n <= 5; n++)
    add(person(220 + n, { ...spend, 'spend.customData.custom3': 'CC999' }), 'cost center not in its list');
  for (let n = 1; n <= 3; n++)
    add(person(230 + n, { ...spend, 'spend.customData.orgUnit1': 'OU9' }), 'org unit not in its list');
  for (let n = 1; n <= 3; n++) add(person(240 + n, { ...spend, 'spend.ledgerCode': 'EU' }), 'unknown ledger');
  for (let n = 1; n <= 3; n++) add(person(250 + n, { 'spend.roles': 'EXP_USER' }), 'roles without a spend user (new)');
  for (const n of [23, 24]) add(person(n, { 'spend.roles': 'EXP_USER' }), 'roles without a spend user (existing)');
  add(person(261, { userName: 'jsmith@example.com', employeeNumber: 'NEW-2002' }), 'recycled login');
  add(person(262, { userName: 'jdoe@example.com', employeeNumber: 'E-900' }), 'rehire with a new number');
  add(person(263, { userName: 'bob@example.com', employeeNumber: 'E-ANN' }), 'swapped logins');
  add(person(264, { userName: 'ann@example.com', employeeNumber: 'E-BOB' }), 'swapped logins');
  add(person(265, { previousEmployeeNumber: 'E-GONE' }), 'explicit change of nobody');
  add(
    person(266, { ...spend, 'spend.reportApproverEmployeeNumber': 'NEW-2002' }),
    'approver is a conflicting row above',
  );
  add(person(267, { ...spend, 'spend.reportApproverEmployeeNumber': 'E-LATE' }), 'approver is a conflicting row below');
  for (let n = 1; n <= 2; n++)
    add(
      person(270 + n, { 'travel.ruleClass': 'Standard', 'travel.managerEmployeeNumber': `NOBODY${n}` }),
      'travel manager nowhere',
    );
  add(person(280, { employeeNumber: 'E-LATE', userName: 'person25@example.com' }), 'login of another person');
  // Not failures: nothing to deactivate, a manager nowhere (written without one).
  for (let n = 1; n <= 2; n++) add(person(290 + n, { active: 'false' }));
  for (let n = 1; n <= 2; n++) add(person(295 + n, { managerEmployeeNumber: `NOBOSS${n}` }));
  // Invalid rows, and an approver who is one of them.
  add(person(298, { email: 'not-an-email' }));
  add(person(299, { ...spend, 'spend.reportApproverEmployeeNumber': 'E298' }), 'approver is an invalid row');
  return { rows, kinds };
}

interface PlanJson {
  dropId: string;
  rows: number;
  plan: Record<string, number>;
  notes?: string[];
  rowsDetail: {
    row: number;
    action: string;
    flags?: { code: string; severity: string; field: string; message: string }[];
  }[];
}

describe('a plan that knows what Concur will refuse', () => {
  it(
    'flags the rows the run then fails, and only those; the run fails exactly the flagged rows',
    { timeout: 240_000 },
    async () => {
      stack = await startStack({
        env: {
          CONCUR_LIST_FIELDS: 'custom3=Cost Centers; orgUnit1=Org Units',
          CONCUR_LEDGER_CODES: 'DEFAULT,US',
          // The drop is a test of mistakes: let it run through them.
          MAX_CONFLICT_PERCENT: '100',
          MAX_FAILURE_PERCENT: '100',
          LOG_LEVEL: 'warn',
        },
      });
      const knobs = await fetch(`${stack.simUrl}/_sim/config`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          spendRoleCodes: ['EXP_USER', 'EXP_APPROVER', 'REQ_USER'],
          spendListItems: { custom3: ['CC100', 'CC200'], orgUnit1: ['OU1', 'OU2'] },
          spendListNames: { custom3: 'Cost Centers', orgUnit1: 'Org Units' },
          spendLedgerCodes: ['DEFAULT', 'US'],
        }),
      });
      expect(knobs.status).toBe(200);
      await seed(stack.simUrl, [
        ...Array.from({ length: 20 }, (_, i) => ({
          userName: `person${i + 1}@example.com`,
          employeeNumber: `E${i + 1}`,
        })),
        { userName: 'person21@example.com', employeeNumber: 'E21', spendUser: true },
        { userName: 'person23@example.com', employeeNumber: 'E23' },
        { userName: 'person24@example.com', employeeNumber: 'E24' },
        { userName: 'person25@example.com', employeeNumber: 'E25' },
        { userName: 'jsmith@example.com', employeeNumber: 'OLD-1001', active: false },
        { userName: 'jdoe@example.com', employeeNumber: 'E-100', active: false },
        { userName: 'ann@example.com', employeeNumber: 'E-ANN' },
        { userName: 'bob@example.com', employeeNumber: 'E-BOB' },
      ]);
      const before = await (await fetch(`${stack.simUrl}/_sim/state`)).json();
      const { rows, kinds } = mistakesDrop();
      const path = writeCsvDrop(rows, 'mistakes.csv');

      const planned = await runCli(['ingest', path, '--plan', '--json'], stack.env);
      expect(planned.code, planned.stderr).toBe(0);
      const plan = JSON.parse(planned.stdout) as PlanJson;
      expect(plan.notes).toBeUndefined();
      // The plan wrote nothing.
      expect(await (await fetch(`${stack.simUrl}/_sim/state`)).json()).toEqual(before);
      const flagged = new Set(
        plan.rowsDetail.filter((r) => r.flags?.some((f) => f.severity === 'fail')).map((r) => r.row),
      );
      expect(plan.plan.willFail).toBe(flagged.size);
      expect(plan.plan.conflict).toBe(6);
      // Every flag names its row and field.
      for (const r of plan.rowsDetail)
        for (const f of r.flags ?? [])
          expect(f.message).toMatch(new RegExp(`^mistakes\\.csv row ${r.row}: ${f.field.replace(/\./g, '\\.')}: `));

      // The text plan counts the same rows, says which fail and why; --out writes the flags in the report columns.
      const out = join(dirname(path), 'plan.csv');
      const text = await runCli(['ingest', path, '--plan', '--force', '--out', out], stack.env);
      expect(text.code, text.stderr).toBe(0);
      expect(text.stdout.split('\n')[0]).toMatch(new RegExp(`conflict 6, .*will fail ${flagged.size}$`));
      expect(text.stdout).toMatch(
        /will fail ROLE_UNKNOWN: mistakes\.csv row \d+: spend\.roles: INV_APPROVER is not in Concur's role catalogue/,
      );
      expect(text.stdout).toMatch(/note DEACTIVATE_ABSENT: /);
      const report = readFileSync(out, 'utf8');
      expect(report).toMatch(/,planned,create,,,LIST_ITEM_UNKNOWN,.*,spend\.customData\.custom3,?\r?\n/);

      // Run the planned drop for real.
      const run = await runCli(['ingest', path, '--wait', '--json'], stack.env);
      const summary = JSON.parse(run.stdout.trim() || '{}') as { dropId: string; states: Record<string, number> };
      expect(summary.dropId, run.stderr + (await stack.logs())).toBe(plan.dropId);
      const runReport = await runCli(['report', plan.dropId, '--format', 'jsonl'], stack.env);
      const outcomes = runReport.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { row: string; state: string; errorCode: string; message: string });
      const FAILED = new Set(['identity_failed', 'extension_failed', 'timed_out']);
      const failed = new Set(outcomes.filter((o) => FAILED.has(o.state)).map((o) => Number(o.row)));

      const caught = [...failed].filter((r) => flagged.has(r)).length;
      const falseAlarms = [...flagged].filter((r) => !failed.has(r));
      const recall = failed.size === 0 ? 1 : caught / failed.size;
      console.log(
        JSON.stringify({
          rows: rows.length,
          failedInRun: failed.size,
          flaggedByPlan: flagged.size,
          caught,
          recall,
          falseAlarms: falseAlarms.length,
          runStates: summary.states,
        }),
      );
      const missed = [...failed]
        .filter((r) => !flagged.has(r))
        .map((r) => ({ row: r, kind: kinds.get(r), outcome: outcomes[r - 1] }));
      expect(missed, JSON.stringify(missed)).toEqual([]);
      expect(falseAlarms).toEqual([]);
      expect(recall).toBeGreaterThanOrEqual(0.95);
      // The drop's mistakes are exactly the failed rows; the rest went through.
      expect([...failed].sort((a, b) => a - b)).toEqual([...kinds.keys()].sort((a, b) => a - b));
      expect(summary.states).toMatchObject({ invalid: 1, identity_failed: 6, extension_failed: kinds.size - 6 });
    },
  );
});
