import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/demo/processes.ts';
import { startPrivateRedis, type PrivateRedis } from '../helpers/redis-server.ts';
import { startSimulator, type StartedSimulator } from '../helpers/simulator.ts';

/*
 * docs/going-live.md, run: every `sh` block of the guide, in order, as one bash script (so a
 * variable set in one block is there in the next), against the simulator and a Redis of its own,
 * in a directory holding the stand-ins the guide names (hr.csv, hr-mapping.json, hr-before.csv).
 * `npx provision` is this checkout's CLI. The guide's other blocks are configuration, not commands.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const GUIDE = join(ROOT, 'docs/going-live.md');
const BIN = join(ROOT, 'bin/provision.js');

/** Fenced blocks of a markdown text: their info string and body. */
function fences(markdown: string): { lang: string; body: string }[] {
  return [...markdown.matchAll(/^```(\S*)\n([\s\S]*?)^```$/gm)].map((m) => ({ lang: m[1] ?? '', body: m[2] ?? '' }));
}

const MAPPING = {
  description: 'the HR export of the guide',
  columns: {
    Employee_ID: 'employeeNumber',
    First_Name: 'givenName',
    Last_Name: 'familyName',
    Work_Email: { to: ['userName', 'email'], transforms: ['trim', 'lower'] },
    Manager_ID: 'managerEmployeeNumber',
    Country: 'spend.country',
    Currency: 'spend.reimbursementCurrency',
    Locale: 'spend.locale',
    Expense_Roles: {
      to: 'spend.roles',
      transforms: [{ map: { Approver: 'EXP_USER;EXP_APPROVER', Employee: 'EXP_USER' }, otherwise: 'error' }],
    },
  },
};
const PLACES = [
  ['GB', 'GBP', 'en-GB'],
  ['US', 'USD', 'en-US'],
  ['DE', 'EUR', 'de-DE'],
] as const;

/** 60 people; everyone's manager comes earlier in the file, so the first 20 hold their managers. */
function hrExport(lastName: (n: number) => string): string {
  const lines = ['Employee_ID,First_Name,Last_Name,Work_Email,Manager_ID,Country,Currency,Locale,Expense_Roles'];
  for (let n = 1; n <= 60; n += 1) {
    const [country, currency, locale] = PLACES[n % PLACES.length]!;
    const manager = n === 1 ? '' : `H${String(Math.floor((n - 1) / 5) + 1).padStart(3, '0')}`;
    const id = `H${String(n).padStart(3, '0')}`;
    lines.push(
      [
        id,
        `Given${n}`,
        lastName(n),
        `person${n}@example.com`,
        manager,
        country,
        currency,
        locale,
        n % 5 === 1 ? 'Approver' : 'Employee',
      ].join(','),
    );
  }
  return `${lines.join('\n')}\n`;
}
/** The wave's export got five surnames wrong; the export from before has them right. */
const waveSurname = (n: number): string => (n >= 41 && n <= 45 ? `Wrong${n}` : `Family${n}`);
const beforeSurname = (n: number): string => `Family${n}`;

let sim: StartedSimulator;
let redis: PrivateRedis;
let dir: string;

beforeAll(async () => {
  [sim, redis, dir] = await Promise.all([
    startSimulator(),
    startPrivateRedis(),
    mkdtemp(join(tmpdir(), 'going-live-')),
  ]);
  await writeFile(join(dir, 'hr.csv'), hrExport(waveSurname));
  await writeFile(join(dir, 'hr-before.csv'), hrExport(beforeSurname));
  await writeFile(join(dir, 'hr-mapping.json'), JSON.stringify(MAPPING, null, 2));
});

afterAll(async () => {
  await Promise.all([sim.close(), redis.stop()]);
  await rm(dir, { recursive: true, force: true });
});

/** Runs the script in its own process group; whatever it left running in the background is ended. */
async function runScript(
  script: string,
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn('bash', ['-c', script], { cwd: dir, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  const group = -child.pid!;
  try {
    process.kill(group, 'SIGTERM');
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      process.kill(group, 0);
    }
    process.kill(group, 'SIGKILL');
  } catch {
    // The group is gone: every background process ended.
  }
  return { code, stdout, stderr };
}

describe('docs/going-live.md', () => {
  it('has only sh blocks (run below) and dotenv configuration', async () => {
    const blocks = fences(await readFile(GUIDE, 'utf8'));
    expect(blocks.filter((b) => b.lang !== 'sh' && b.lang !== 'dotenv').map((b) => b.lang)).toEqual([]);
    expect(blocks.filter((b) => b.lang === 'sh').length).toBeGreaterThanOrEqual(8);
  });

  it('every command runs against the simulator: doctor, plan, pilot, report, wave, replay, rollback, metrics', async () => {
    const commands = fences(await readFile(GUIDE, 'utf8'))
      .filter((b) => b.lang === 'sh')
      .map((b) => b.body)
      .join('\n');
    const script = [
      'set -euxo pipefail',
      `npx() { if [ "$1" = provision ]; then shift; "${process.execPath}" "${BIN}" "$@"; else command npx "$@"; fi; }`,
      commands,
    ].join('\n');
    const port = await freePort();
    const publicKey = await (await fetch(`${sim.baseUrl}/_sim/public-key`)).text();
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      CONCUR_BASE_URL: sim.baseUrl,
      REDIS_URL: redis.url,
      PORT: String(port),
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      WEBHOOK_PUBLIC_KEY: publicKey,
      METRICS_TOKEN: 'metrics-token-for-the-guide',
      DASHBOARD_USER: 'ops',
      DASHBOARD_PASSWORD: 'a-long-dashboard-password',
      EXTENSION_LINGER_MS: '100',
      STATUS_FIRST_DELAY_MS: '500',
      LOG_LEVEL: 'warn',
    };
    const run = await runScript(script, env);
    const trace = `${run.stderr.slice(-6000)}\n--- stdout ---\n${run.stdout.slice(-4000)}`;
    expect(run.code, trace).toBe(0);

    // Doctor found nothing to fix, each time.
    const verdicts = [...run.stdout.matchAll(/^\d+ checks: .*$/gm)].map((m) => m[0]);
    expect(verdicts.length, trace).toBe(3);
    for (const v of verdicts) expect(v).toMatch(/ 0 warn, 0 fail: ready for a first plan$/);
    expect(run.stdout).toMatch(
      /^PASS {2}ess\.subscription +Concur sends provisionCompleted to http:\/\/127\.0\.0\.1:\d+\/webhooks\/concur$/m,
    );

    // The pilot: 20 people done; the wave: every one of the 60 done or unchanged.
    const report = async (file: string): Promise<string[]> =>
      (await readFile(join(dir, file), 'utf8')).trim().split('\n').slice(1);
    const pilot = await report('pilot-report.csv');
    expect(pilot).toHaveLength(20);
    expect(
      pilot.every((line) => line.split(',')[3] === 'done'),
      pilot.join('\n'),
    ).toBe(true);
    const wave = await report('wave-report.csv');
    expect(wave).toHaveLength(60);
    expect(wave.filter((line) => !['done', 'unchanged'].includes(line.split(',')[3]!))).toEqual([]);
    for (const plan of ['plan.csv', 'wave-plan.csv', 'rollback-plan.csv']) expect((await report(plan)).length).toBe(60);

    // Concur holds the 60 people, managers linked, and the rollback put the five surnames back.
    const state = (await (await fetch(`${sim.baseUrl}/_sim/state`)).json()) as {
      users: { name: { familyName: string }; userName: string; [k: string]: unknown }[];
    };
    expect(state.users).toHaveLength(60);
    const byUser = new Map(state.users.map((u) => [u.userName, u]));
    for (let n = 41; n <= 45; n += 1) expect(byUser.get(`person${n}@example.com`)?.name.familyName).toBe(`Family${n}`);
    const enterprise = byUser.get('person7@example.com')?.[
      'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'
    ] as { manager?: { value?: string } } | undefined;
    expect(enterprise?.manager?.value).toBe((byUser.get('person2@example.com') as { id?: string } | undefined)?.id);

    // The metrics block printed the gauges it names.
    expect(run.stdout).toMatch(/^provision_rows\{state="done"\} \d+/m);
    expect(run.stdout).toMatch(/^provision_concur_token_refused 0$/m);
  });
});
