import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../src/demo/processes.ts';
import type { Decision } from '../../../src/shared/ledger/decisions.ts';
import { basic, startServer, TEST_AUTH, type ServerHarness } from '../../helpers/server.ts';
import { TEST_REDIS_URL } from '../../helpers/redis.ts';

/*
 * The decisions API over real HTTP against the real server and Redis: who, when and from where
 * each decision is recorded, and the auth and cross-site guards in front of it.
 */

const AGENT = 'decisions-test/1.0';
const json = { 'content-type': 'application/json', 'user-agent': AGENT };

interface Person {
  employeeNumber: string;
  userName: string;
  givenName: string;
  familyName: string;
  active: boolean;
}

const person = (n: number, active = true): Person => ({
  employeeNumber: `E${n}`,
  userName: `person${n}@example.com`,
  givenName: `Given${n}`,
  familyName: `Family${n}`,
  active,
});

/** A drop straight in the ledger: `people` pending rows, held (or planned with a plan per row). */
async function seedDrop(
  h: ServerHarness,
  id: string,
  people: Person[],
  status: 'held' | 'planned' | 'running',
  plan?: (p: Person, row: number) => unknown,
): Promise<void> {
  await h.ledger.createDrop({ id, file: `${id}.csv`, sha256: 'x'.repeat(64), format: 'csv', createdAt: Date.now() });
  await h.ledger.addRows(
    id,
    people.map((p, i) => ({
      row: i + 1,
      state: 'pending',
      data: { rowNumber: i + 1, ...p },
      employeeNumber: p.employeeNumber,
      userName: p.userName,
    })),
  );
  const deactivations = people.filter((p) => !p.active).length;
  await h.ledger.setDropFields(id, {
    deactivations,
    ...(status === 'held' ? { reason: `${deactivations} rows deactivate people`, heldAt: Date.now() } : {}),
  });
  if (plan) {
    await h.ledger.savePlanRows(
      id,
      people.map((p, i) => ({ row: i + 1, plan: plan(p, i + 1) })),
    );
    await h.ledger.setDropFields(id, {
      plan: JSON.stringify({
        create: 0,
        update: people.length,
        unchanged: 0,
        deactivate: 0,
        invalid: 0,
        conflict: 0,
        unsupported: 0,
        willFail: 0,
      }),
      plannedAt: Date.now(),
    });
  }
  await h.ledger.finishIngest(id, people.length, status);
}

describe('server: decisions over HTTP', () => {
  let h: ServerHarness;
  const auth = basic(TEST_AUTH.user, TEST_AUTH.password);
  const post = (path: string, headers: Record<string, string> = {}, body = '{}') =>
    fetch(`${h.url}${path}`, { method: 'POST', headers: { authorization: auth, ...json, ...headers }, body });
  const decisionsOf = async (id: string): Promise<Decision[]> =>
    ((await (await h.get(`/drops/${id}`)).json()) as { decisions: Decision[] }).decisions;

  beforeAll(async () => {
    h = await startServer();
  });
  afterAll(async () => h?.close());

  it('lists the people a held drop would deactivate, page by page, and approve records who, when and from where', async () => {
    const people = Array.from({ length: 12 }, (_, i) => person(i + 1, i % 3 !== 0));
    await seedDrop(h, 'held1', people, 'held');

    const first = (await (await h.get('/drops/held1/people?limit=2')).json()) as {
      people: { row: number; action: string; userName: string; employeeNumber: string; givenName: string }[];
      next: number;
      deactivations: number;
      planned: boolean;
    };
    expect(first).toMatchObject({ deactivations: 4, planned: false, next: 4 });
    expect(first.people).toEqual([
      {
        row: 1,
        action: 'deactivate',
        userName: 'person1@example.com',
        employeeNumber: 'E1',
        givenName: 'Given1',
        familyName: 'Family1',
      },
      {
        row: 4,
        action: 'deactivate',
        userName: 'person4@example.com',
        employeeNumber: 'E4',
        givenName: 'Given4',
        familyName: 'Family4',
      },
    ]);
    const rest = (await (await h.get(`/drops/held1/people?after=${first.next}&limit=50`)).json()) as {
      people: { row: number }[];
      next?: number;
    };
    expect(rest.people.map((p) => p.row)).toEqual([7, 10]);
    expect(rest.next).toBeUndefined();

    const before = Date.now();
    const res = await post('/drops/held1/approve');
    expect(res.status).toBe(200);
    const body = (await res.json()) as { previous: string; status: string; rows: number; decision: Decision };
    expect(body).toMatchObject({ previous: 'held', status: 'running', rows: 12 });
    expect((await h.ledger.getDrop('held1'))?.meta.status).toBe('running');
    expect(await h.queues.identity.getJobCountByTypes('waiting', 'prioritized', 'delayed')).toBeGreaterThan(0);

    const [decision] = await decisionsOf('held1');
    expect(decision).toEqual({
      action: 'approve',
      by: TEST_AUTH.user,
      via: 'dashboard',
      ip: '127.0.0.1',
      userAgent: AGENT,
      at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      previous: 'held',
      status: 'running',
      rows: 12,
    });
    expect(Date.parse(decision!.at)).toBeGreaterThanOrEqual(before - 1);
    expect(Date.parse(decision!.at)).toBeLessThanOrEqual(Date.now());
  });

  it('pause, resume and cancel by the API token are recorded in order; a decision the status forbids is 409 and not recorded', async () => {
    await seedDrop(h, 'run1', [person(1), person(2)], 'running');
    const bearer = { authorization: `Bearer ${TEST_AUTH.token}` };
    expect((await post('/drops/run1/pause', bearer)).status).toBe(200);
    expect((await h.ledger.getDrop('run1'))?.meta).toMatchObject({
      status: 'paused',
      reason: 'paused by the operator',
    });
    expect((await post('/drops/run1/pause', bearer)).status).toBe(409);
    expect((await post('/drops/run1/resume', bearer, '')).status).toBe(200);
    expect((await h.ledger.getDrop('run1'))?.meta.status).toBe('running');
    const cancel = await post('/drops/run1/cancel', bearer);
    expect(cancel.status).toBe(200);
    expect(await cancel.json()).toMatchObject({ previous: 'running', status: 'cancelled', rows: 2 });
    const refused = await post('/drops/run1/approve', bearer);
    expect(refused.status).toBe(409);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toMatch(/is cancelled/);

    const decisions = await decisionsOf('run1');
    expect(decisions.map((d) => [d.action, d.by, d.via, d.previous, d.status])).toEqual([
      ['pause', 'DASHBOARD_TOKEN', 'token', 'running', 'paused'],
      ['resume', 'DASHBOARD_TOKEN', 'token', 'paused', 'running'],
      ['cancel', 'DASHBOARD_TOKEN', 'token', 'running', 'cancelled'],
    ]);
    expect(decisions.every((d) => d.ip === '127.0.0.1' && d.userAgent === AGENT)).toBe(true);
  });

  it('refuses unauthenticated (401) and cross-site (403) decisions, changing nothing', async () => {
    await seedDrop(h, 'held2', [person(1, false), person(2)], 'held');
    const anonymous = await fetch(`${h.url}/drops/held2/approve`, { method: 'POST', headers: json, body: '{}' });
    expect(anonymous.status).toBe(401);
    const wrong = await post('/drops/held2/cancel', { authorization: basic(TEST_AUTH.user, 'wrong password!') });
    expect(wrong.status).toBe(401);
    // What another site's page can send with the saved login: a form post, or a fetch from its origin.
    const form = await post('/drops/held2/approve', { 'content-type': 'application/x-www-form-urlencoded' }, 'a=1');
    expect(form.status).toBe(403);
    const plain = await post('/drops/held2/cancel', { 'content-type': 'text/plain' });
    expect(plain.status).toBe(403);
    const otherOrigin = await post('/drops/held2/approve', { origin: 'https://evil.example' });
    expect(otherOrigin.status).toBe(403);
    const crossSite = await post('/drops/held2/cancel', { 'sec-fetch-site': 'cross-site' });
    expect(crossSite.status).toBe(403);
    expect((await h.ledger.getDrop('held2'))?.meta.status).toBe('held');
    expect(await decisionsOf('held2')).toEqual([]);
    expect((await post('/drops/nope/approve')).status).toBe(404);
  });

  it("shows a planned drop's plan page by page; run starts it and is recorded; `status --json` lists the decisions", async () => {
    const people = Array.from({ length: 5 }, (_, i) => person(i + 1));
    await seedDrop(h, 'plan1', people, 'planned', (p, row) => ({
      row,
      action: 'update',
      userName: p.userName,
      employeeNumber: p.employeeNumber,
      changes: [{ field: 'title', old: 'Old', new: `New ${row}` }],
    }));
    const page = (await (await h.get('/drops/plan1/plan?page=2&size=2')).json()) as {
      page: number;
      pages: number;
      rows: number;
      counts: Record<string, number>;
      planned: { row: number; changes: unknown[] }[];
    };
    expect(page).toMatchObject({ page: 2, pages: 3, rows: 5, counts: { update: 5 } });
    expect(page.planned.map((p) => p.row)).toEqual([3, 4]);
    expect(page.planned[0]!.changes).toEqual([{ field: 'title', old: 'Old', new: 'New 3' }]);

    const run = await post('/drops/plan1/run');
    expect(run.status).toBe(200);
    expect(await run.json()).toMatchObject({ previous: 'planned', status: 'running' });
    expect((await post('/drops/plan1/run')).status).toBe(409);

    const status = await runCli(['status', 'plan1', '--json'], {
      ...process.env,
      REDIS_URL: TEST_REDIS_URL,
      QUEUE_PREFIX: h.prefix,
      LOG_LEVEL: 'warn',
    });
    expect(status.code, status.stderr).toBe(0);
    const printed = JSON.parse(status.stdout) as { decisions: Decision[] };
    expect(printed.decisions).toEqual([
      expect.objectContaining({
        action: 'run',
        by: TEST_AUTH.user,
        via: 'dashboard',
        ip: '127.0.0.1',
        previous: 'planned',
      }),
    ]);
  });
});
