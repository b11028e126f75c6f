import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../../src/demo/processes.ts';
import { Ledger } from '../../../src/shared/ledger/ledger.ts';
import { REPORT_COLUMNS } from '../../../src/shared/ledger/report.ts';
import { createQueues, type PipelineQueues } from '../../../src/shared/queues/index.ts';
import { person, writeCsvDrop } from '../../helpers/drops.ts';
import { TEST_REDIS_URL, deletePrefix, testRedis, uniquePrefix } from '../../helpers/redis.ts';
import { startSimulator, type StartedSimulator } from '../../helpers/simulator.ts';
import { identityWrites, seed, silent, simUsers } from './support.ts';

let sim: StartedSimulator;
let prefix: string;
let redis: ReturnType<typeof testRedis>;
let queues: PipelineQueues;
let ledger: Ledger;

beforeEach(async () => {
  sim = await startSimulator();
  prefix = uniquePrefix('guards-cli');
  redis = testRedis();
  queues = createQueues(redis, prefix, silent);
  ledger = new Ledger(redis, prefix);
});

afterEach(async () => {
  await queues.close();
  await deletePrefix(redis, prefix);
  await redis.quit();
  await sim.close();
});

function provision(args: string[]): ReturnType<typeof runCli> {
  return runCli(args, {
    ...process.env,
    REDIS_URL: TEST_REDIS_URL,
    QUEUE_PREFIX: prefix,
    CONCUR_BASE_URL: sim.baseUrl,
    LOG_LEVEL: 'warn',
  });
}

async function queuedJobs(): Promise<number> {
  const c = await queues.identity.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
  return Object.values(c).reduce((a, b) => a + b, 0);
}

describe('provision ingest --plan, approve, cancel', () => {
  it(
    '--plan --json prints the plan as one object and sends nothing; approve runs the planned drop',
    { timeout: 60_000 },
    async () => {
      await seed(sim, [person(1), person(2), person(3)]);
      const path = writeCsvDrop([
        person(1),
        person(2, { department: 'Finance' }),
        person(3, { active: 'false' }),
        person(4, { 'spend.country': 'US', 'spend.reimbursementCurrency': 'USD', 'spend.locale': 'en-US' }),
        person(5, { email: 'nope' }),
      ]);
      const out = join(dirname(path), 'plan.csv');
      const res = await provision(['ingest', path, '--plan', '--json', '--out', out]);
      expect(res.stderr).toBe('');
      expect(res.code).toBe(0);
      const plan = JSON.parse(res.stdout) as {
        dropId: string;
        rows: number;
        plan: Record<string, number>;
        rowsDetail: { row: number; action: string; [k: string]: unknown }[];
      };
      expect(plan).toMatchObject({ rows: 5, plan: { create: 1, update: 1, unchanged: 1, deactivate: 1, invalid: 1 } });
      expect(plan.rowsDetail.map((r) => r.action)).toEqual(['unchanged', 'update', 'deactivate', 'create', 'invalid']);
      expect(plan.rowsDetail[1]).toMatchObject({
        changes: [{ field: 'department', old: 'Engineering', new: 'Finance' }],
      });
      expect(plan.rowsDetail[3]).toMatchObject({
        extensions: ['spend.country', 'spend.reimbursementCurrency', 'spend.locale'],
      });
      expect(plan.rowsDetail[4]).toMatchObject({ column: 'email', code: 'PROV_ERR_INPUT' });

      const csv = readFileSync(out, 'utf8').split('\r\n');
      expect(csv[0]).toBe(REPORT_COLUMNS.join(','));
      expect(csv[2]).toMatch(
        /^2,person2@example\.com,E2,planned,update,[0-9a-f-]+,,,department: Engineering → Finance,,$/,
      );

      expect(await identityWrites(sim)).toBe(0);
      expect(await queuedJobs()).toBe(0);
      expect((await ledger.getDrop(plan.dropId))?.meta.status).toBe('planned');

      const approved = await provision(['approve', plan.dropId, '--json']);
      expect(approved.code).toBe(0);
      expect(JSON.parse(approved.stdout)).toMatchObject({
        dropId: plan.dropId,
        previous: 'planned',
        status: 'running',
        rows: 4,
      });
      expect(await queuedJobs()).toBe(1);
      expect((await ledger.getDrop(plan.dropId))?.meta.status).toBe('running');
    },
  );

  it(
    'a drop over the deactivation threshold exits 4 held; status shows why; cancel ends it',
    { timeout: 60_000 },
    async () => {
      const leaving = Array.from({ length: 30 }, (_, i) => person(i + 1));
      await seed(sim, leaving);
      const path = writeCsvDrop([
        ...leaving.map((r) => ({ ...r, active: 'false' })),
        ...Array.from({ length: 70 }, (_, i) => person(i + 101)),
      ]);

      const res = await provision(['ingest', path]);
      expect(res.code).toBe(4);
      const dropId = res.stdout.trim();
      expect(res.stderr).toMatch(new RegExp(`drop ${dropId} is held: 30 of 100 rows \\(30%\\) deactivate people`));

      const status = await provision(['status', dropId, '--json']);
      expect(JSON.parse(status.stdout)).toMatchObject({
        status: 'held',
        reason: expect.stringMatching(/MAX_DEACTIVATION_PERCENT=20%/),
      });

      const cancelled = await provision(['cancel', dropId, '--json']);
      expect(cancelled.code).toBe(0);
      expect(JSON.parse(cancelled.stdout)).toMatchObject({
        dropId,
        previous: 'held',
        status: 'cancelled',
        cancelled: 100,
      });
      expect((await ledger.getDrop(dropId))?.counts).toMatchObject({ cancelled: 100, pending: 0 });

      const again = await provision(['approve', dropId]);
      expect(again.code).toBe(3);
      expect(again.stderr).toMatch(/is cancelled: only planned, held, paused, running drops can be approved/);
      expect(await identityWrites(sim)).toBe(0);
      expect((await simUsers(sim)).every((u) => u.active)).toBe(true);
    },
  );

  it('--expect-rows that does not match rejects the drop with both counts; a bad value is bad usage', async () => {
    const path = writeCsvDrop([person(1), person(2), person(3)]);
    const res = await provision(['ingest', path, '--expect-rows', '5']);
    expect(res.code).toBe(3);
    expect(res.stderr).toMatch(
      /row count mismatch: the manifest expects 5 rows, the file has 3 \(truncated\?\); nothing was sent/,
    );
    const [id] = await ledger.listDrops();
    expect((await ledger.getDrop(id!))?.meta.status).toBe('rejected');
    expect(await queuedJobs()).toBe(0);

    const bad = await provision(['ingest', path, '--sha256', 'xyz']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/sha256: must be 64 hex characters/);
  });
});
