import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/demo/processes.ts';
import { IDENTITY_QUEUE } from '../../src/shared/queues/identity.ts';
import { queueKeyPrefix } from '../../src/shared/keys.ts';
import { person, writeCsvDrop } from '../helpers/drops.ts';
import { testRedis } from '../helpers/redis.ts';
import { STACK_AUTH, startStack, type Stack } from '../helpers/stack.ts';

/*
 * What a new user tripped over (docs/operations.md, docs/errors.md#exit-codes), through real
 * processes: the CLI spawned against the simulator, the three workers and the server.
 */

const PKG = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
const COMMANDS = [
  'ingest',
  'status',
  'report',
  'replay',
  'worker',
  'subscribe-webhook',
  'simulator',
  'serve',
  'watch',
  'demo',
  'approve',
  'cancel',
  'prune',
];
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

let stack: Stack;
const cli = (args: string[], env: Record<string, string> = {}) => runCli(args, { ...stack.env, ...env });
const json = <T>(text: string): T => JSON.parse(text.trim()) as T;

beforeAll(async () => {
  stack = await startStack({ server: true, env: { GUARD_MIN_ROWS: '1000' } });
}, 120_000);
afterAll(async () => stack?.stop(), 60_000);

describe('the command line', () => {
  it('--version prints the package version; usage errors exit 2 for every command, as JSON with --json', async () => {
    const version = await cli(['--version']);
    expect(version).toMatchObject({ code: 0, stdout: `${PKG.version}\n` });
    const results = await Promise.all(COMMANDS.map((c) => cli([c, '--no-such-flag', '--json'])));
    results.forEach((r, i) => {
      expect(r.code, `${COMMANDS[i]}: ${r.stderr}`).toBe(2);
      // (subscribe-webhook names its missing --url first: a usage error all the same.)
      const { error } = json<{ error: { code: string; message: string } }>(r.stdout);
      expect(error.code).toBe('PROV_ERR_USAGE');
      expect(error.message).toMatch(/unknown option '--no-such-flag'|required option/);
    });
    // A missing argument, a bad choice, an unknown command and a bad value given by hand: 2 as well.
    for (const args of [
      ['approve'],
      ['report', 'x', '--format', 'xml'],
      ['nosuch'],
      ['replay', 'x', '--states', 'bogus'],
    ])
      expect((await cli(args)).code, args.join(' ')).toBe(2);
  });

  it('Redis down: one clear line, no stack trace, exit 3; with --json the error object', async () => {
    const down = { REDIS_URL: 'redis://127.0.0.1:1' };
    const text = await cli(['status'], down);
    expect(text.code).toBe(3);
    expect(text.stdout).toBe('');
    expect(text.stderr).toBe(
      'Redis at 127.0.0.1:1 is unreachable (ECONNREFUSED): start it, or point REDIS_URL at it\n',
    );
    const asJson = await cli(['status', 'somedrop', '--json'], down);
    expect(asJson.code).toBe(3);
    expect(json(asJson.stdout)).toEqual({
      error: { code: 'PROV_ERR_REDIS', message: text.stderr.trim() },
    });
    expect(asJson.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('progress, rate and outcome', () => {
  it(
    'a planned drop shows no ETA; approved later, its rate counts from when rows started moving; approve --wait exits by outcome',
    { timeout: 120_000 },
    async () => {
      const rows = Array.from({ length: 60 }, (_, i) => person(i + 1000));
      const path = writeCsvDrop(rows);
      const plan = await cli(['ingest', path, '--plan', '--json', '--progress']);
      expect(plan.code, plan.stderr).toBe(0);
      // Progress on stderr (asked for: stderr is no terminal here), never on stdout.
      expect(plan.stderr).toMatch(/planning drop\.csv: 60 rows, done/);
      const { dropId } = json<{ dropId: string }>(plan.stdout);

      const planned = await cli(['status', dropId]);
      expect(planned.stdout).toMatch(/ETA none \(planned\)/);
      const plannedJson = json<{ progress: Record<string, unknown> }>((await cli(['status', dropId, '--json'])).stdout);
      expect(plannedJson.progress.etaSeconds).toBeUndefined();
      expect(plannedJson.progress.createdAt).toMatch(ISO);

      // The plan sits a while before anyone approves it: the wait must not dilute the rate.
      await new Promise((r) => setTimeout(r, 3000));
      const approve = await cli(['approve', dropId, '--wait', '--json']);
      expect(approve.code, approve.stderr + (await stack.logs())).toBe(0);
      expect(json(approve.stdout)).toMatchObject({ dropId, rows: 60, status: 'complete', failed: 0, outcome: 'ok' });

      const done = json<{ progress: Record<string, unknown> }>(
        (await cli(['status', dropId, '--json'])).stdout,
      ).progress;
      for (const k of ['createdAt', 'startedAt', 'completedAt']) expect(done[k], k).toMatch(ISO);
      const t = (k: string): number => Date.parse(String(done[k]));
      // The clock started when the approved rows moved, not when the drop was planned.
      expect(t('startedAt') - t('createdAt')).toBeGreaterThanOrEqual(3000);
      const moving = (t('completedAt') - t('startedAt')) / 1000;
      expect(done.rowsPerSecond as number).toBeCloseTo(60 / moving, 0);
      // Counted from creation (the old way) the rate would be far lower: the plan waited 3 s.
      expect(done.rowsPerSecond as number).toBeGreaterThan((60 / ((t('completedAt') - t('createdAt')) / 1000)) * 1.3);
    },
  );

  it('a drop whose rows all failed is not shown green, and failed rows fill no bar', { timeout: 120_000 }, async () => {
    const spend = { 'spend.country': 'US', 'spend.reimbursementCurrency': 'USD', 'spend.locale': 'en-US' };
    // Every row names a report approver Concur does not have: each ends extension_failed.
    const rows = Array.from({ length: 5 }, (_, i) =>
      person(i + 2000, { ...spend, 'spend.reportApproverEmployeeNumber': 'E-nobody' }),
    );
    const ingest = await cli(['ingest', writeCsvDrop(rows), '--wait', '--json']);
    expect(ingest.code, ingest.stderr + (await stack.logs())).toBe(1);
    const summary = json<{ dropId: string }>(ingest.stdout);
    expect(summary).toMatchObject({ status: 'complete', failed: 5, outcome: 'failed' });
    const status = await cli(['status', summary.dropId]);
    expect(status.stdout).toMatch(/status {4}complete \(every row failed\)/);

    const res = await fetch(`${stack.serverUrl}/drops/${summary.dropId}`, {
      headers: {
        authorization: `Basic ${Buffer.from(`${STACK_AUTH.user}:${STACK_AUTH.password}`).toString('base64')}`,
      },
    });
    const detail = (await res.json()) as Record<string, unknown> & {
      stages: Record<string, { done: number; failed: number; total: number }>;
    };
    expect(detail.outcome).toBe('failed');
    expect(detail.stages.settled).toEqual({ done: 0, failed: 5, total: 5 });
    expect(detail.stages.extensions).toEqual({ done: 0, failed: 5, total: 5 });
    // The page colours a complete drop by its outcome: red here, never the green of status-complete alone.
    const page = await (
      await fetch(`${stack.serverUrl}/assets/page.js`, {
        headers: {
          authorization: `Basic ${Buffer.from(`${STACK_AUTH.user}:${STACK_AUTH.password}`).toString('base64')}`,
        },
      })
    ).text();
    expect(page).toContain("(d.outcome ? ' outcome-' + d.outcome : '')");
  });
});

describe('reports, replay and Bull Board', () => {
  it(
    'report --changes shows old → new, --bom starts the CSV with a BOM, JSONL rows are numbers; job names carry drop and rows',
    { timeout: 120_000 },
    async () => {
      const first = Array.from({ length: 3 }, (_, i) => person(i + 3000));
      expect((await cli(['ingest', writeCsvDrop(first), '--wait'])).code).toBe(0);
      const second = first.map((r, i) => (i === 0 ? { ...r, department: 'Finance', title: 'Controller' } : r));
      const run = await cli(['ingest', writeCsvDrop(second), '--wait', '--json']);
      expect(run.code, run.stderr).toBe(0);
      const { dropId } = json<{ dropId: string }>(run.stdout);

      const csv = await cli(['report', dropId, '--changes', '--bom']);
      expect(csv.code).toBe(0);
      expect(csv.stdout.startsWith('\uFEFFrow,userName,')).toBe(true);
      const [header, row1, row2] = csv.stdout.slice(1).split('\r\n');
      expect(header?.endsWith(',lines,changes')).toBe(true);
      expect(row1).toContain('update');
      expect(row1).toContain('department: Engineering → Finance');
      expect(row1).toContain('title: (none) → Controller');
      expect(row2?.endsWith(',')).toBe(true); // unchanged: no changes
      // Without --changes the report keeps its columns and no values of a person's fields.
      const plain = await cli(['report', dropId]);
      expect(plain.stdout).not.toContain('Finance');
      expect(plain.stdout.startsWith('row,')).toBe(true);

      const jsonl = await cli(['report', dropId, '--format', 'jsonl']);
      const records = jsonl.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(records.map((r) => r.row)).toEqual([1, 2, 3]);
      expect(records[0]).not.toHaveProperty('changes');

      const queue = new Queue(IDENTITY_QUEUE, {
        connection: testRedis(),
        prefix: queueKeyPrefix(stack.prefix, IDENTITY_QUEUE),
      });
      try {
        const names = (await queue.getCompleted(0, 50)).map((j) => j.name);
        expect(names).toContain(`identity ${dropId} rows 1-3`);
      } finally {
        await queue.close();
        await (queue.opts.connection as { quit(): Promise<unknown> }).quit?.();
      }
    },
  );

  it('replay --states invalid finds the invalid rows and says what to do with them', { timeout: 60_000 }, async () => {
    const path = writeCsvDrop([person(4000), person(4001, { email: 'not-an-email' })]);
    const ingest = await cli(['ingest', path, '--wait', '--json']);
    const { dropId } = json<{ dropId: string }>(ingest.stdout);
    const replay = await cli(['replay', dropId, '--states', 'invalid']);
    expect(replay.code).toBe(3);
    expect(replay.stderr).toContain(`drop ${dropId} has 1 invalid row(s) with no record to replay`);
    expect(replay.stderr).toContain(`provision report ${dropId} --states invalid`);
    const asJson = await cli(['replay', dropId, '--states', 'invalid', '--json']);
    expect(json<{ error: { code: string } }>(asJson.stdout).error.code).toBe('PROV_ERR_INPUT');
  });
});

describe('encodings', () => {
  it(
    'a Latin-1 export is read through its manifest, a Windows-1252 one through its mapping file',
    { timeout: 120_000 },
    async () => {
      const dir = stack.logDir;
      const latin = join(dir, 'latin.csv');
      writeFileSync(
        latin,
        Buffer.from(
          'userName,givenName,familyName,email,employeeNumber\nrenee@example.com,Ren\xe9e,Fran\xe7ois,renee@example.com,E5000\n',
          'latin1',
        ),
      );
      writeFileSync(`${latin}.manifest.json`, JSON.stringify({ encoding: 'latin1' }));
      const a = await cli(['ingest', latin, '--wait', '--json']);
      expect(a.code, a.stderr).toBe(0);

      const cp = join(dir, 'cp1252.csv');
      // 0x9A is š in Windows-1252 (a C1 control in ISO-8859-1).
      writeFileSync(
        cp,
        Buffer.concat([
          Buffer.from('Login,First,Last,Mail,Id\nsasa@example.com,Sa', 'latin1'),
          Buffer.from([0x9a]),
          Buffer.from('a,Novak,sasa@example.com,E5001\n', 'latin1'),
        ]),
      );
      const mapping = join(dir, 'mapping.json');
      writeFileSync(
        mapping,
        JSON.stringify({
          encoding: 'windows-1252',
          columns: { Login: 'userName', First: 'givenName', Last: 'familyName', Mail: 'email', Id: 'employeeNumber' },
        }),
      );
      const b = await cli(['ingest', cp, '--mapping', mapping, '--wait', '--json']);
      expect(b.code, b.stderr).toBe(0);

      const users = (await (await fetch(`${stack.simUrl}/_sim/state`)).json()) as {
        users: { userName: string; name?: { givenName?: string; familyName?: string } }[];
      };
      const by = new Map(users.users.map((u) => [u.userName, u.name]));
      expect(by.get('renee@example.com')).toMatchObject({ givenName: 'Renée', familyName: 'François' });
      expect(by.get('sasa@example.com')).toMatchObject({ givenName: 'Saša' });
    },
  );
});
