import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runDoctor, type DoctorReport } from '../../../src/commands/doctor/run.ts';
import type { DoctorOptions } from '../../../src/commands/doctor/env.ts';
import { loadConfig } from '../../../src/shared/config.ts';
import { freePort } from '../../../src/demo/processes.ts';
import { startPrivateRedis, type PrivateRedis } from '../../helpers/redis-server.ts';
import { deletePrefix, testRedis, uniquePrefix } from '../../helpers/redis.ts';
import { startSimulator, type StartedSimulator } from '../../helpers/simulator.ts';

// `provision doctor` against the real simulator and real redis-servers: one all-green setup, then
// each way a setup is broken, each driving its check to fail (or warn) with what to do.

const PUBLIC_URL = 'https://provisioning.example.com';
let sim: StartedSimulator;
let goodRedis: PrivateRedis;
let dir: string;
let publicKey: string;
const prefixes: string[] = [];

beforeAll(async () => {
  [sim, goodRedis, dir] = await Promise.all([
    startSimulator(),
    startPrivateRedis(),
    mkdtemp(join(tmpdir(), 'provision-doctor-')),
  ]);
  publicKey = await (await fetch(`${sim.baseUrl}/_sim/public-key`)).text();
});

afterAll(async () => {
  const redis = testRedis();
  for (const p of prefixes) await deletePrefix(redis, p);
  redis.disconnect();
  await Promise.all([sim.close(), goodRedis.stop(), rm(dir, { recursive: true, force: true })]);
});

afterEach(async () => {
  await fetch(`${sim.baseUrl}/_sim/reset`, { method: 'POST' });
  await knobs({ upsEnabled: true, travelEnabled: true, dateSkewMs: 0, spendRoleCodes: ALL_ROLES });
  for (const sub of await subscriptions()) await essCall('DELETE', `/events/v4/subscriptions/${sub.id}`);
});

let ALL_ROLES: string[] = [];
beforeAll(async () => {
  ALL_ROLES = ((await (await fetch(`${sim.baseUrl}/_sim/config`)).json()) as { spendRoleCodes: string[] })
    .spendRoleCodes;
});

const knobs = (patch: Record<string, unknown>): Promise<void> => sim.setKnobs(patch);

async function essCall(method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${sim.baseUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${await sim.appToken()}`,
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
}

async function subscriptions(): Promise<{ id: string }[]> {
  return (await (await essCall('GET', '/events/v4/subscriptions')).json()) as { id: string }[];
}

async function subscribe(endpoint: string): Promise<void> {
  const res = await essCall('PUT', '/events/v4/subscriptions/webhook', {
    id: 'provisioning.pipeline.webhook',
    topic: 'public.concur.user.provisioning',
    filter: 'provisionCompleted',
    webHookConfig: { endpoint },
  });
  expect(res.status).toBe(200);
}

/** The doctor with the simulator's defaults, a fresh prefix, the good Redis, and `env` on top. */
async function doctor(env: Record<string, string> = {}, options: DoctorOptions = {}): Promise<DoctorReport> {
  const prefix = uniquePrefix('doctor');
  prefixes.push(prefix);
  const config = loadConfig({
    CONCUR_BASE_URL: sim.baseUrl,
    REDIS_URL: goodRedis.url,
    QUEUE_PREFIX: prefix,
    LOG_LEVEL: 'silent',
    ...env,
  });
  return runDoctor(config, options);
}

function check(report: DoctorReport, name: string): { status: string; detail: string } {
  const found = report.checks.find((c) => c.name === name);
  if (!found) throw new Error(`no check ${name} in ${report.checks.map((c) => c.name).join(', ')}`);
  return found;
}

const HEADER =
  'userName,givenName,familyName,email,employeeNumber,managerEmployeeNumber,spend.country,spend.reimbursementCurrency,spend.locale,spend.roles';

async function dropFile(name: string, rows: string[]): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, `${HEADER}\n${rows.join('\n')}\n`);
  return path;
}

const GOOD_ROWS = [
  'ada@example.com,Ada,Lovelace,ada@example.com,5001,,GB,GBP,en-GB,EXP_USER;EXP_APPROVER',
  'charles@example.com,Charles,Babbage,charles@example.com,5002,5001,GB,GBP,en-GB,EXP_USER',
  'grace@example.com,Grace,Hopper,grace@example.com,5003,5001,US,USD,en-US,EXP_USER',
];

describe('provision doctor', () => {
  it('passes every check on a ready setup: AOF Redis, good credentials, subscription at PUBLIC_URL, a clean drop', async () => {
    await subscribe(`${PUBLIC_URL}/webhooks/concur`);
    const mapping = join(dir, 'mapping.json');
    await writeFile(mapping, JSON.stringify({ columns: {}, defaults: { 'spend.roles': 'EXP_USER' } }));
    const report = await doctor(
      { WEBHOOK_PUBLIC_KEY: publicKey, PUBLIC_URL },
      { drop: await dropFile('good.csv', GOOD_ROWS), mapping },
    );
    expect(report.checks.filter((c) => c.status !== 'pass')).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.checks.length).toBeGreaterThanOrEqual(15);
    expect(report.checks.map((c) => c.name)).toEqual([
      'redis.reachable',
      'redis.version',
      'redis.eviction',
      'redis.persistence',
      'concur.base-url',
      'token.grant',
      'token.refresh-token',
      'token.request-token',
      'token.geolocation',
      'identity.read',
      'identity.search',
      'clock.skew',
      'ups.reachable',
      'travel.extension',
      'mapping.compiles',
      'drop.rows',
      'drop.plan',
      'drop.managers',
      'spend.role-codes',
      'webhook.public-key',
      'ess.subscription',
    ]);
    expect(check(report, 'drop.plan').detail).toMatch(/create 3.*will fail 0/);
    expect(check(report, 'ess.subscription').detail).toContain(`${PUBLIC_URL}/webhooks/concur`);
    // Nothing was written to Concur: the plan only read.
    const state = (await (await fetch(`${sim.baseUrl}/_sim/state`)).json()) as { users: unknown[] };
    expect(state.users).toEqual([]);
  });

  it('fails the token on a wrong client secret, and says which variables to check', async () => {
    const report = await doctor({ CONCUR_CLIENT_SECRET: 'not-the-secret' });
    expect(check(report, 'token.grant')).toMatchObject({ status: 'fail' });
    expect(check(report, 'token.grant').detail).toContain('CONCUR_CLIENT_SECRET');
    expect(check(report, 'token.request-token').status).toBe('fail');
    // What needs a token says so instead of failing again.
    expect(check(report, 'identity.read')).toMatchObject({
      status: 'warn',
      detail: expect.stringContaining('not checked'),
    });
    expect(report.ok).toBe(false);
  });

  it('fails a wrong client secret even while a token obtained earlier is still shared in Redis', async () => {
    const prefix = uniquePrefix('doctor');
    prefixes.push(prefix);
    expect(check(await doctor({ QUEUE_PREFIX: prefix }), 'token.grant').status).toBe('pass');
    const report = await doctor({ QUEUE_PREFIX: prefix, CONCUR_CLIENT_SECRET: 'not-the-secret' });
    expect(check(report, 'token.grant').detail).toContain('obtained earlier');
    expect(check(report, 'token.request-token')).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining('CONCUR_CLIENT_SECRET'),
    });
  });

  it('fails the token for a request token of another company (CONCUR_COMPANY_ID)', async () => {
    const report = await doctor({ CONCUR_COMPANY_ID: '0e9b3a5e-1111-4222-8333-944455556666' });
    expect(check(report, 'token.grant').status).toBe('fail');
    expect(check(report, 'token.grant').detail).toMatch(/code 5\b.*CONCUR_COMPANY_ID/);
    expect(check(report, 'token.request-token').status).toBe('fail');
    expect(report.ok).toBe(false);
  });

  it('fails UPS when the company is not enabled for it, and does not guess Travel or role codes', async () => {
    await knobs({ upsEnabled: false });
    const report = await doctor({}, { drop: await dropFile('ups-off.csv', GOOD_ROWS) });
    // The plan could not read the role codes: it says so instead of promising nothing will fail.
    expect(check(report, 'drop.plan')).toMatchObject({
      status: 'warn',
      detail: expect.stringContaining('not checked'),
    });
    expect(check(report, 'ups.reachable')).toMatchObject({ status: 'fail', detail: expect.stringContaining('403') });
    expect(check(report, 'travel.extension').detail).toContain('not checked');
    expect(check(report, 'spend.role-codes').status).toBe('warn');
    expect(check(report, 'identity.read').status).toBe('pass');
    expect(report.ok).toBe(false);
  });

  it('warns when the company has no Travel', async () => {
    await knobs({ travelEnabled: false });
    const report = await doctor();
    expect(check(report, 'travel.extension')).toMatchObject({
      status: 'warn',
      detail: expect.stringContaining('Travel'),
    });
    expect(check(report, 'ups.reachable').status).toBe('pass');
  });

  it('fails eviction and warns about persistence on a Redis with allkeys-lru, no AOF and no RDB', async () => {
    const lru = await startPrivateRedis({
      extraArgs: ['--maxmemory-policy', 'allkeys-lru', '--save', '', '--appendonly', 'no'],
    });
    try {
      const report = await doctor({ REDIS_URL: lru.url });
      expect(check(report, 'redis.reachable').status).toBe('pass');
      expect(check(report, 'redis.eviction')).toMatchObject({
        status: 'fail',
        detail: expect.stringContaining('allkeys-lru'),
      });
      expect(check(report, 'redis.persistence')).toMatchObject({
        status: 'warn',
        detail: expect.stringContaining('appendonly yes'),
      });
      expect(report.ok).toBe(false);
    } finally {
      await lru.stop();
    }
  });

  it('fails Redis when nothing listens at REDIS_URL, and still checks Concur with a token of its own', async () => {
    const report = await doctor({ REDIS_URL: `redis://127.0.0.1:${await freePort()}` });
    expect(check(report, 'redis.reachable')).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining('REDIS_URL'),
    });
    expect(check(report, 'redis.eviction').detail).toContain('not checked');
    expect(check(report, 'token.grant')).toMatchObject({
      status: 'pass',
      detail: expect.stringContaining('this process only'),
    });
    expect(check(report, 'identity.read').status).toBe('pass');
  });

  it('fails the role codes and the plan for a drop with a role code Concur does not have, naming the row', async () => {
    await knobs({ spendRoleCodes: ALL_ROLES.filter((c) => c !== 'EXP_APPROVER') });
    const report = await doctor({}, { drop: await dropFile('roles.csv', GOOD_ROWS) });
    expect(check(report, 'spend.role-codes')).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining('EXP_APPROVER (rows 1)'),
    });
    expect(check(report, 'drop.plan')).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining('will fail 1'),
    });
    expect(report.ok).toBe(false);
  });

  it('reports invalid rows and managers found nowhere in the drop checks', async () => {
    const report = await doctor(
      {},
      {
        drop: await dropFile('mixed.csv', [
          ...GOOD_ROWS,
          'lost@example.com,Lost,Manager,lost@example.com,5004,9999,GB,GBP,en-GB,EXP_USER',
          'bad-email,Bad,Row,bad-email,5005,,GB,GBP,en-GB,EXP_USER',
        ]),
      },
    );
    expect(check(report, 'drop.rows')).toMatchObject({
      status: 'warn',
      detail: expect.stringContaining('5 rows, 1 invalid'),
    });
    expect(check(report, 'drop.managers')).toMatchObject({ status: 'warn', detail: expect.stringContaining('rows 4') });
  });

  it('fails a mapping file that does not compile', async () => {
    const mapping = join(dir, 'broken-mapping.json');
    await writeFile(mapping, JSON.stringify({ columns: { Employee_ID: 'employeeNumbr' } }));
    const report = await doctor({}, { mapping });
    expect(check(report, 'mapping.compiles')).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining('employeeNumbr'),
    });
  });

  it("warns about a few minutes of clock skew and fails beyond the webhook's 15 minutes", async () => {
    await knobs({ dateSkewMs: 2 * 60 * 1000 });
    expect(check(await doctor(), 'clock.skew')).toMatchObject({
      status: 'warn',
      detail: expect.stringContaining('behind'),
    });
    await knobs({ dateSkewMs: -20 * 60 * 1000 });
    const report = await doctor();
    expect(check(report, 'clock.skew')).toMatchObject({ status: 'fail', detail: expect.stringContaining('ahead of') });
    expect(report.ok).toBe(false);
  });

  it('fails the ESS subscription when webhooks are on and Concur has none, or sends elsewhere', async () => {
    const env = { WEBHOOK_PUBLIC_KEY: publicKey, PUBLIC_URL };
    expect(check(await doctor(env), 'ess.subscription')).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining(
        'provision subscribe-webhook --url https://provisioning.example.com/webhooks/concur',
      ),
    });
    await subscribe('https://old-host.example.com/webhooks/concur');
    expect(check(await doctor(env), 'ess.subscription')).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining('old-host.example.com'),
    });
    // Without PUBLIC_URL the doctor cannot tell whether it is ours.
    expect(check(await doctor({ WEBHOOK_PUBLIC_KEY: publicKey }), 'ess.subscription').status).toBe('warn');
  });

  it('warns when the token lives at another address than CONCUR_BASE_URL', async () => {
    // The token's address is trusted only when listed (docs/security.md#the-concur-token-in-redis).
    const report = await doctor({
      CONCUR_BASE_URL: sim.baseUrl.replace('127.0.0.1', 'localhost'),
      CONCUR_TRUSTED_ORIGINS: sim.baseUrl,
    });
    expect(check(report, 'token.geolocation')).toMatchObject({
      status: 'warn',
      detail: expect.stringContaining(`set CONCUR_BASE_URL=${sim.baseUrl}`),
    });
  });
});
