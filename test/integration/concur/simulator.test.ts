import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { loadConfig } from '../../../src/shared/config.ts';
import { createLogger } from '../../../src/shared/logger.ts';
import { isProvError, type ProvError } from '../../../src/shared/errors.ts';
import {
  BulkBuilder,
  ENTERPRISE_URN,
  bulkPatch,
  bulkPost,
  createConcurClient,
  patch,
  type BulkOperation,
  type ConcurClient,
  type ProvisionOperation,
  type ProvisionStatus,
} from '../../../src/shared/concur/index.ts';
import { startSimulator, type StartedSimulator } from '../../helpers/simulator.ts';
import { deletePrefix, testRedis, uniquePrefix } from '../../helpers/redis.ts';

const SPEND_USER_URN = 'urn:ietf:params:scim:schemas:extension:spend:2.0:User';

let redis: Redis;
let sim: StartedSimulator;
let prefix: string;
let clients: ConcurClient[];

beforeAll(() => {
  redis = testRedis();
});
afterAll(async () => {
  await redis.quit();
});
beforeEach(async () => {
  sim = await startSimulator();
  prefix = uniquePrefix('concur-sim');
  clients = [];
});
afterEach(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await sim.close();
  await deletePrefix(redis, prefix);
});

/** A client with its own pool; all clients of a test share one Redis token key. */
function newClient(): ConcurClient {
  const config = loadConfig({
    QUEUE_PREFIX: prefix,
    CONCUR_BASE_URL: sim.baseUrl,
    CONCUR_REQUEST_TOKEN: 'sim-request-token',
  });
  const client = createConcurClient({ config, redis, log: createLogger({ level: 'silent' }) });
  clients.push(client);
  return client;
}

async function simCall(method: string, path: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${sim.baseUrl}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${await res.text()}`);
  return res.status === 204 ? undefined : res.json();
}

/** Requests the simulator answered on routes whose key starts with `routePrefix`, optionally with one status. */
async function answered(routePrefix: string, status?: number): Promise<number> {
  const stats = (await simCall('GET', '/_sim/stats')) as { routes: Record<string, Record<string, number>> };
  let n = 0;
  for (const [route, byStatus] of Object.entries(stats.routes)) {
    if (!route.startsWith(routePrefix)) continue;
    for (const [s, c] of Object.entries(byStatus)) if (status === undefined || Number(s) === status) n += c;
  }
  return n;
}

const TOKEN_ROUTE = 'POST /oauth2/v0/token';

function person(i: number, tag = randomUUID().slice(0, 8)): Record<string, unknown> {
  return {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:User', ENTERPRISE_URN],
    userName: `p${i}-${tag}@example.com`,
    active: true,
    externalId: `ext-${tag}-${i}`,
    name: { givenName: `Given${i}`, familyName: `Family${i}` },
    emails: [{ value: `p${i}-${tag}@example.com`, type: 'work' }],
    [ENTERPRISE_URN]: { employeeNumber: `E-${tag}-${i}` },
  };
}

const spendUser = (currency: string): Record<string, unknown> => ({
  [SPEND_USER_URN]: { reimbursementCurrency: currency, country: 'US', locale: 'en-US' },
});

async function failure(p: Promise<unknown>): Promise<ProvError> {
  try {
    await p;
  } catch (err) {
    if (isProvError(err)) return err;
    throw err;
  }
  throw new Error('expected the call to fail');
}

async function waitCompleted(client: ConcurClient, provisionId: string): Promise<ProvisionStatus> {
  for (;;) {
    const status = await client.status.getStatus(provisionId);
    if (status.status.completed) return status;
    await sleep(50);
  }
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe('Identity v4.1 against the simulator', () => {
  it('create, get, replace, patch and the three finds', async () => {
    const client = newClient();
    const input = person(1);
    const created = await client.identity.create(input);
    expect(created.userName).toBe(input.userName);
    expect(created[ENTERPRISE_URN]?.employeeNumber).toBe(
      (input[ENTERPRISE_URN] as { employeeNumber: string }).employeeNumber,
    );

    const got = await client.identity.get(created.id);
    expect(got.id).toBe(created.id);

    const replaced = await client.identity.replace(created.id, { ...input, title: 'Engineer' });
    expect(replaced.title).toBe('Engineer');

    const patched = await client.identity.patch(
      created.id,
      patch().replace('active', false).replace(`${ENTERPRISE_URN}:department`, 'R&D'),
    );
    expect(patched.active).toBe(false);
    expect(patched[ENTERPRISE_URN]).toMatchObject({ department: 'R&D' });
    expect((await client.identity.get(created.id)).active).toBe(false);

    expect((await client.identity.findByUserName(String(input.userName).toUpperCase()))?.id).toBe(created.id);
    expect(
      (await client.identity.findByEmployeeNumber((input[ENTERPRISE_URN] as { employeeNumber: string }).employeeNumber))
        ?.id,
    ).toBe(created.id);
    expect((await client.identity.findByExternalId(String(input.externalId)))?.id).toBe(created.id);
    expect(await client.identity.findByUserName('nobody@example.com')).toBeUndefined();
  });

  it('a second create with the same userName is a conflict; an unknown id is not_found', async () => {
    const client = newClient();
    const input = person(2);
    await client.identity.create(input);
    const conflict = await failure(
      client.identity.create({ ...input, [ENTERPRISE_URN]: { employeeNumber: 'other-number' } }),
    );
    expect(conflict.code).toBe('PROV_ERR_CONFLICT');
    expect(conflict.details.correlationId).toEqual(expect.any(String));
    const missing = await failure(client.identity.get(randomUUID()));
    expect(missing.code).toBe('PROV_ERR_NOT_FOUND');
  });

  it('search follows nextCursor over several pages, and findMany batches lookups', async () => {
    const client = newClient();
    const tag = randomUUID().slice(0, 8);
    const people = Array.from({ length: 25 }, (_, i) => person(i, tag));
    for (const p of people) await client.identity.create(p);

    const pages = await collect(client.identity.searchPages({ filter: `userName ew "${tag}@example.com"`, count: 10 }));
    expect(pages.map((p) => p.users.length)).toEqual([10, 10, 5]);
    const names = pages.flatMap((p) => p.users.map((u) => u.userName));
    expect(new Set(names)).toEqual(new Set(people.map((p) => p.userName)));

    const numbers = people.map((p) => (p[ENTERPRISE_URN] as { employeeNumber: string }).employeeNumber);
    const found = await client.identity.findMany('employeeNumber', [...numbers, 'E-missing'], { batchSize: 10 });
    expect(found.size).toBe(25);
    expect(found.has('E-missing')).toBe(false);
    expect(found.get(numbers[7]!)?.userName).toBe(people[7]!.userName);
  });
});

describe('the shared token against the simulator', () => {
  it('refreshes ahead of expiry when the lifetime is short, without a 401', async () => {
    await simCall('PATCH', '/_sim/config', { tokenLifetimeS: 1 });
    const client = newClient();
    const created = await client.identity.create(person(3));
    await sleep(1_100);
    expect((await client.identity.get(created.id)).id).toBe(created.id);
    expect(await answered(TOKEN_ROUTE, 200)).toBe(2);
    expect(await answered('GET /profile/identity', 401)).toBe(0);
  });

  it('a 401 after the server expired every token recovers with one refresh', async () => {
    const client = newClient();
    const created = await client.identity.create(person(4));
    await simCall('POST', '/_sim/tokens/expire');
    expect((await client.identity.get(created.id)).id).toBe(created.id);
    expect(await answered(TOKEN_ROUTE, 200)).toBe(2);
    expect(await answered('GET /profile/identity', 401)).toBe(1);
  });

  it('two clients with separate pools share one token and refresh it once', async () => {
    const a = newClient();
    const b = newClient();
    const created = await a.identity.create(person(5));
    const burst = (): Promise<unknown[]> =>
      Promise.all([a, b].flatMap((c) => Array.from({ length: 5 }, () => c.identity.get(created.id))));
    await burst();
    expect(await answered(TOKEN_ROUTE)).toBe(1);
    await simCall('POST', '/_sim/tokens/expire');
    const users = await burst();
    expect(users).toHaveLength(10);
    expect(await answered(TOKEN_ROUTE)).toBe(2);
    expect(await answered(TOKEN_ROUTE, 400)).toBe(0);
  });
});

describe('UPS v4 and provision status against the simulator', () => {
  it('postUser, patchUser and putUser return provision ids that complete', async () => {
    const client = newClient();
    const input = { ...person(6), ...spendUser('USD') };
    const posted = await client.ups.postUser(input);
    expect(posted.user.id).toEqual(expect.any(String));
    expect(posted.statusUrl).toContain(posted.provisionId);
    expect((await waitCompleted(client, posted.provisionId)).status.success).toBe(true);

    const patched = await client.ups.patchUser(posted.user.id, patch().replace('title', 'Lead'));
    expect(patched.provisionId).not.toBe(posted.provisionId);
    expect((await waitCompleted(client, patched.provisionId)).status.success).toBe(true);
    expect((await client.identity.get(posted.user.id)).title).toBe('Lead');

    const put = await client.ups.putUser(posted.user.id, { ...input, title: 'Chief' });
    expect((await waitCompleted(client, put.provisionId)).status.success).toBe(true);
    expect((await client.identity.get(posted.user.id)).title).toBe('Chief');
  });

  it('a bulk of 30 with 5 invalid pages through every operation and each state', async () => {
    const client = newClient();
    const tag = randomUUID().slice(0, 8);
    const builder = new BulkBuilder();
    const ops: BulkOperation[] = [];
    for (let i = 0; i < 30; i++) {
      const bad = i % 6 === 0; // 0, 6, 12, 18, 24
      ops.push(...builder.add(bulkPost(`b-${i}`, { ...person(i, tag), ...spendUser(bad ? 'US' : 'USD') })).flat());
    }
    const batch = builder.flush();
    expect(ops).toHaveLength(0); // 30 operations fit one request
    const submitted = await client.ups.submitBulk(batch!);
    expect(submitted.status.operationsCount.total).toBe(30);

    const done = await waitCompleted(client, submitted.provisionId);
    expect(done.operationsCount).toMatchObject({ total: 30, success: 25, failed: 5, pending: 0 });
    expect(done.status.success).toBe(false);

    const all = await collect(client.status.iterateOperations(submitted.provisionId, { count: 7 }));
    expect(all.map((o) => o.bulkId).sort()).toEqual(Array.from({ length: 30 }, (_, i) => `b-${i}`).sort());
    const failed = await collect(client.status.iterateOperations(submitted.provisionId, { state: 'failed', count: 2 }));
    expect(failed.map((o) => o.bulkId).sort()).toEqual(['b-0', 'b-12', 'b-18', 'b-24', 'b-6']);
    const spendError = failed[0]?.extensions?.find((e) => e.name === SPEND_USER_URN);
    expect(spendError?.status.result).toBe('error');
    expect(spendError?.messages?.[0]?.schemaPath).toContain('reimbursementCurrency');
    const succeeded = await collect(
      client.status.iterateOperations(submitted.provisionId, { state: 'success', count: 10 }),
    );
    expect(succeeded).toHaveLength(25);
    const pending = await collect(
      client.status.iterateOperations(submitted.provisionId, { state: 'pending', count: 10 }),
    );
    expect(pending).toHaveLength(0);
  });

  it('pending operations page across several pages while extensions wait', async () => {
    await simCall('PATCH', '/_sim/config', { processExtensions: false });
    const client = newClient();
    const tag = randomUUID().slice(0, 8);
    const created = await client.identity.create(person(0, tag));
    const ops = [
      ...Array.from({ length: 11 }, (_, i) => bulkPost(`n-${i}`, { ...person(i + 1, tag), ...spendUser('USD') })),
      bulkPatch(created.id, patch().add(SPEND_USER_URN + ':', spendUser('USD')[SPEND_USER_URN]), 'p-0'),
    ];
    const { provisionId } = await client.ups.submitBulk(ops);
    const pending: ProvisionOperation[] = await collect(
      client.status.iterateOperations(provisionId, { state: 'pending', count: 5 }),
    );
    expect(pending.map((o) => o.bulkId).sort()).toEqual(
      [...Array.from({ length: 11 }, (_, i) => `n-${i}`), 'p-0'].sort(),
    );
    const summary = await client.status.getStatus(provisionId);
    expect(summary.status.completed).toBe(false);
    expect(summary.operations).toBeUndefined();
  });
});
