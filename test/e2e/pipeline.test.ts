import { afterEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { runCli, waitUntil } from '../../src/demo/processes.ts';
import { Ledger } from '../../src/shared/ledger/ledger.ts';
import { TEST_REDIS_URL } from '../helpers/redis.ts';
import { person, writeCsvDrop } from '../helpers/drops.ts';
import { ENT } from '../helpers/sim-data.ts';
import { startStack, type Stack } from '../helpers/stack.ts';

const SPEND = 'urn:ietf:params:scim:schemas:extension:spend:2.0:User';
const APPROVER = 'urn:ietf:params:scim:schemas:extension:spend:2.0:Approver';
const TRAVEL = 'urn:ietf:params:scim:schemas:extension:travel:2.0:User';

let stack: Stack | undefined;

afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

type StateUser = Record<string, unknown> & {
  id: string;
  [ENT]: { employeeNumber: string; manager?: { value: string } };
};

describe('the whole pipeline in real processes', () => {
  it(
    'provisions identities and extensions; approvers and travel managers listed later in the drop still work',
    { timeout: 120_000 },
    async () => {
      stack = await startStack({ env: { LEDGER_COMPACT_INTERVAL_MS: '500' } });
      const spend = {
        'spend.country': 'US',
        'spend.reimbursementCurrency': 'USD',
        'spend.locale': 'en-US',
        'spend.roles': 'EXP_USER',
      };
      const rows = [];
      // Rows 1..40 name rows 41..80 (further down the file) as manager, report approver and travel manager.
      for (let n = 1; n <= 40; n++) {
        const boss = `E${n + 40}`;
        rows.push(
          person(n, {
            managerEmployeeNumber: boss,
            ...spend,
            'spend.reportApproverEmployeeNumber': boss,
            'travel.ruleClass': 'Standard',
            'travel.managerEmployeeNumber': boss,
          }),
        );
      }
      for (let n = 41; n <= 80; n++) rows.push(person(n, { ...spend, 'spend.roles': 'EXP_USER;EXP_APPROVER' }));
      // An unknown approver: Concur refuses the extension, the row ends extension_failed with its message.
      rows.push(person(81, { ...spend, 'spend.reportApproverEmployeeNumber': 'E-nobody' }));
      const path = writeCsvDrop(rows);

      const ingest = await runCli(['ingest', path, '--wait', '--json'], stack.env);
      const summary = JSON.parse(ingest.stdout.trim() || '{}') as { rows: number; states: Record<string, number> };
      expect(summary, ingest.stderr + (await stack.logs())).toMatchObject({
        rows: 81,
        states: { done: 80, extension_failed: 1 },
      });
      expect(ingest.code).toBe(1);

      const state = (await (await fetch(`${stack.simUrl}/_sim/state`)).json()) as { users: StateUser[] };
      const byEmp = new Map(state.users.map((u) => [u[ENT].employeeNumber, u]));
      expect(state.users).toHaveLength(81);
      for (let n = 1; n <= 40; n++) {
        const u = byEmp.get(`E${n}`)!;
        const boss = byEmp.get(`E${n + 40}`)!;
        expect(u[ENT].manager?.value).toBe(boss.id);
        expect(u[SPEND]).toMatchObject({ country: 'US', reimbursementCurrency: 'USD', locale: 'en-US' });
        expect(
          (u[APPROVER] as { report: { approver: { employeeNumber: string } }[] }).report[0]?.approver.employeeNumber,
        ).toBe(`E${n + 40}`);
        expect(u[TRAVEL]).toMatchObject({ ruleClass: { name: 'Standard' }, manager: { employeeNumber: `E${n + 40}` } });
      }

      const report = await runCli(
        ['report', JSON.parse(ingest.stdout).dropId as string, '--format', 'jsonl', '--states', 'extension_failed'],
        stack.env,
      );
      const failed = report.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, string>);
      expect(failed).toHaveLength(1);
      expect(failed[0]).toMatchObject({ employeeNumber: 'E81', state: 'extension_failed' });
      expect(failed[0]?.message).toMatch(/Employee does not exist|INVALID_USER/);
      expect(failed[0]?.schemaPath).toContain(APPROVER);

      // The identity worker compacts the finished drop; the full report reads the same afterwards.
      const dropId = JSON.parse(ingest.stdout).dropId as string;
      const full = async () => (await runCli(['report', dropId, '--format', 'jsonl'], stack!.env)).stdout;
      const beforeCompaction = await full();
      const redis = new Redis(TEST_REDIS_URL);
      try {
        const ledger = new Ledger(redis, stack.prefix);
        await waitUntil(
          'the drop compacted',
          async () => (await ledger.getDrop(dropId))?.meta.compactedAt !== undefined,
          20_000,
        );
        expect(await redis.hlen(ledger.keys(dropId).out)).toBe(0);
      } finally {
        redis.disconnect();
      }
      expect(beforeCompaction.trim().split('\n')).toHaveLength(81);
      expect(await full()).toBe(beforeCompaction);
    },
  );
});
