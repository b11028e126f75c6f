import { readFile } from 'node:fs/promises';
import { recordLine } from '../../../src/demo/employee-import.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from '../../../src/server/app.ts';
import { createLogger } from '../../../src/shared/logger.ts';
import { loadConfig } from '../../../src/shared/config.ts';
import { startCallMetricsPublisher } from '../../../src/shared/metrics/concur-calls.ts';
import { createRateLimiter } from '../../../src/shared/rate/index.ts';
import { basic, startServer, TEST_AUTH, type ServerHarness } from '../../helpers/server.ts';

const fixture = (name: string): URL => new URL(`../../fixtures/drops/${name}`, import.meta.url);

/** A complete drop straight in the ledger: 3 done, 1 invalid, 1 extension_failed with a hostile message. */
async function seedCompleteDrop(h: ServerHarness, id: string): Promise<void> {
  await h.ledger.createDrop({
    id,
    file: 'people.csv',
    sha256: 'x'.repeat(64),
    format: 'csv',
    createdAt: Date.now() - 10_000,
  });
  await h.ledger.addRows(id, [
    {
      row: 1,
      state: 'done',
      outcome: { userName: 'a@example.com', employeeNumber: '1', uuid: 'u1', action: 'create' },
    },
    {
      row: 2,
      state: 'done',
      outcome: { userName: 'b@example.com', employeeNumber: '2', uuid: 'u2', action: 'create' },
    },
    {
      row: 3,
      state: 'invalid',
      outcome: { error: 'people.csv row 3: email: not an email', code: 'PROV_ERR_INPUT', column: 'email' },
    },
    {
      row: 4,
      state: 'done',
      outcome: { userName: 'd@example.com', employeeNumber: '4', uuid: 'u4', action: 'update' },
    },
    {
      row: 5,
      state: 'extension_failed',
      outcome: {
        userName: '=HYPERLINK("x")',
        employeeNumber: '5',
        uuid: 'u5',
        error: 'unknown approver',
        extensions: [{ code: 'invalidValue', schemaPath: 'urn:spend:approver' }],
      },
    },
  ]);
  const done = await h.ledger.finishIngest(id, 5, 'running');
  expect(done.completed).toBe(true);
}

describe('server: auth', () => {
  let h: ServerHarness;
  beforeAll(async () => {
    h = await startServer();
  });
  afterAll(async () => h.close());

  it.each(['/', '/drops', '/drops/abc', '/admin/queues', '/admin/queues/api/queues', '/metrics', '/assets/page.js'])(
    'answers 401 on %s without credentials',
    async (path) => {
      const res = await fetch(`${h.url}${path}`);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Basic /);
    },
  );

  it('answers 401 for a wrong password, a wrong token and a malformed header', async () => {
    for (const authorization of [
      basic(TEST_AUTH.user, 'nope'),
      basic('other', TEST_AUTH.password),
      'Bearer nope',
      'Basic',
      'Digest abc',
    ]) {
      const res = await fetch(`${h.url}/drops`, { headers: { authorization } });
      expect(res.status, authorization).toBe(401);
    }
  });

  it('takes basic credentials and the bearer token', async () => {
    expect((await h.get('/drops')).status).toBe(200);
    expect((await fetch(`${h.url}/drops`, { headers: { authorization: `Bearer ${TEST_AUTH.token}` } })).status).toBe(
      200,
    );
  });

  it('takes the metrics token on /metrics only', async () => {
    const headers = { authorization: `Bearer ${TEST_AUTH.metricsToken}` };
    expect((await fetch(`${h.url}/metrics`, { headers })).status).toBe(200);
    expect((await fetch(`${h.url}/drops`, { headers })).status).toBe(401);
  });

  it('leaves the probes open and reports Redis in /readyz', async () => {
    const health = await fetch(`${h.url}/healthz`);
    expect(health.status).toBe(200);
    const ready = await fetch(`${h.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ok', redis: 'ok' });
  });

  it('lists our three queues in Bull Board with credentials', async () => {
    const page = await h.get('/admin/queues');
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<html');
    const res = await h.get('/admin/queues/api/queues');
    expect(res.status).toBe(200);
    const body = (await res.json()) as { queues: { name: string }[] };
    expect(body.queues.map((q) => q.name).sort()).toEqual(['extension', 'identity', 'status']);
  });

  it('refuses to build without credentials unless insecure mode is asked for', async () => {
    const log = createLogger({ level: 'silent' });
    const deps = { ledger: h.ledger, queues: h.queues, redis: h.redis, prefix: h.prefix, log };
    await expect(buildServer({ ...deps, auth: {} })).rejects.toMatchObject({ code: 'PROV_ERR_CONFIG' });
    await expect(buildServer({ ...deps, auth: { user: 'only-user' } })).rejects.toMatchObject({
      code: 'PROV_ERR_CONFIG',
    });
    const open = await buildServer({ ...deps, auth: { insecure: true } });
    try {
      const res = await open.inject({ method: 'GET', url: '/drops' });
      expect(res.statusCode).toBe(200);
    } finally {
      await open.close();
    }
  });
});

describe('server: drops API, report, page, metrics', () => {
  let h: ServerHarness;
  beforeAll(async () => {
    h = await startServer({ uploadMaxBytes: 4096 });
    await seedCompleteDrop(h, 'seeded01');
  });
  afterAll(async () => h.close());

  it('lists recent drops with progress', async () => {
    const body = (await (await h.get('/drops')).json()) as {
      drops: { dropId: string; status: string; rows: number; settled: number; failed: number }[];
    };
    const drop = body.drops.find((d) => d.dropId === 'seeded01');
    expect(drop).toMatchObject({ status: 'complete', rows: 5, settled: 5, failed: 2 });
  });

  it('shows one drop: counts, stages, rate, ETA and timings', async () => {
    const res = await h.get('/drops/seeded01');
    expect(res.status).toBe(200);
    const d = (await res.json()) as Record<string, unknown> & {
      counts: Record<string, number>;
      stages: Record<string, { done: number; total: number }>;
      timings: Record<string, number>;
    };
    expect(d.counts).toMatchObject({ done: 3, invalid: 1, extension_failed: 1, pending: 0 });
    expect(d.stages).toEqual({
      identity: { done: 5, total: 5 },
      extensions: { done: 5, total: 5 },
      settled: { done: 5, total: 5 },
    });
    expect(d.fraction).toBe(1);
    expect(d.etaSeconds).toBe(0);
    expect(d.rowsPerSecond).toBeGreaterThan(0);
    expect(Object.keys(d.timings)).toEqual(expect.arrayContaining(['createdAt', 'ingestedAt', 'completedAt']));
    // The Concur rates in force sit beside the drop (none yet: no process has called).
    expect(d.rateLimits).toEqual({
      identity: { mode: undefined, rps: undefined, last429At: undefined, blockedUntil: undefined },
      ups: { mode: undefined, rps: undefined, last429At: undefined, blockedUntil: undefined },
    });
    expect((await h.get('/drops/nosuchdrop')).status).toBe(404);
    expect((await h.get('/drops/..%2F..%2Fetc')).status).toBe(404);
  });

  it('returns the failed rows with their errors', async () => {
    const body = (await (await h.get('/drops/seeded01/rows')).json()) as {
      rows: { row: string; state: string; message: string; schemaPath: string }[];
      total: number;
    };
    expect(body.total).toBe(2);
    expect(body.rows.map((r) => [r.row, r.state])).toEqual([
      ['3', 'invalid'],
      ['5', 'extension_failed'],
    ]);
    expect(body.rows[0]?.message).toContain('not an email');
    expect(body.rows[1]?.schemaPath).toBe('urn:spend:approver');
    expect((await h.get('/drops/seeded01/rows?states=bogus')).status).toBe(400);
  });

  it('streams the report as CSV (formula-escaped) and as JSONL', async () => {
    const csv = await h.get('/drops/seeded01/report?format=csv');
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-disposition')).toContain('report-seeded01.csv');
    const lines = (await csv.text()).trim().split('\r\n');
    expect(lines).toHaveLength(6);
    expect(lines[0]).toBe(
      'row,userName,employeeNumber,state,action,uuid,provisionId,errorCode,message,schemaPath,lines',
    );
    expect(lines[5]).toContain(`"'=HYPERLINK(""x"")"`);
    const jsonl = await h.get('/drops/seeded01/report?format=jsonl');
    const records = (await jsonl.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { row: string; state: string });
    expect(records.map((r) => r.state)).toEqual(['done', 'done', 'invalid', 'done', 'extension_failed']);
    expect((await h.get('/drops/seeded01/report?format=xml')).status).toBe(400);
  });

  it('serves the drop page and its script', async () => {
    const page = await h.get('/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await page.text()).toContain('data-testid="settled-percent"');
    const js = await h.get('/assets/page.js');
    expect(js.status).toBe(200);
    expect(await js.text()).toContain('/drops/');
  });

  it('ingests an upload: 201 new, 200 the second time, rows in the ledger and jobs in the queue', async () => {
    const body = await readFile(fixture('template-valid.csv'));
    const first = await h.get('/drops?filename=people.csv', {
      method: 'POST',
      body,
      headers: { 'content-type': 'text/csv' },
    });
    expect(first.status).toBe(201);
    const created = (await first.json()) as { dropId: string; rows: number; existed: boolean; jobs: number };
    expect(created.existed).toBe(false);
    expect(created.rows).toBeGreaterThan(0);
    const view = await h.ledger.getDrop(created.dropId);
    expect(view?.meta.file).toBe('people.csv');
    expect(view?.meta.rows).toBe(created.rows);
    expect(await h.queues.identity.getJobCountByTypes('waiting', 'prioritized')).toBe(created.jobs);
    const again = await h.get('/drops?filename=people.csv', {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(again.status).toBe(200);
    expect((await again.json()) as { dropId: string; existed: boolean }).toMatchObject({
      dropId: created.dropId,
      existed: true,
    });
  });

  it('answers 400 with the file error for an unreadable file, and marks the drop rejected', async () => {
    const body = await readFile(fixture('unclosed-quote.csv'));
    const res = await h.get('/drops?filename=broken.csv', {
      method: 'POST',
      body,
      headers: { 'content-type': 'text/csv' },
    });
    expect(res.status).toBe(400);
    const err = (await res.json()) as { error: { code: string; message: string } };
    expect(err.error.code).toBe('PROV_ERR_INPUT');
    expect(err.error.message).toContain('broken.csv');
    const ids = await h.ledger.listDrops(10);
    const views = await Promise.all(ids.map((id) => h.ledger.getDrop(id)));
    expect(views.find((v) => v?.meta.file === 'broken.csv')?.meta.status).toBe('rejected');
  });

  it('answers 413 over UPLOAD_MAX_BYTES, declared or streamed', async () => {
    const big = Buffer.alloc(5000, 'a');
    const csv = { 'content-type': 'text/csv' };
    const declared = await h.get('/drops?filename=big.csv', { method: 'POST', body: big, headers: csv });
    expect(declared.status).toBe(413);
    // Chunked: no content-length, so the limit is enforced while streaming.
    const stream = new ReadableStream({
      start(controller) {
        for (let i = 0; i < 5; i += 1) controller.enqueue(new Uint8Array(1200).fill(97));
        controller.close();
      },
    });
    const chunked = await h.get('/drops?filename=big.csv', {
      method: 'POST',
      headers: csv,
      body: stream,
      duplex: 'half',
    } as RequestInit);
    expect(chunked.status).toBe(413);
    expect((await h.ledger.listDrops(50)).length).toBe(3);
  });

  it("exposes rows by state, queue depths and the workers' Concur call metrics", async () => {
    const publisher = startCallMetricsPublisher({ redis: h.redis, prefix: h.prefix, flushMs: 60_000 });
    publisher.observer({ method: 'PATCH', path: '/profile/identity/v4.1/Users/6b1c', status: 200, durationMs: 40 });
    publisher.observer({ method: 'PATCH', path: '/profile/identity/v4.1/Users/77aa', status: 200, durationMs: 3_000 });
    publisher.observer({ method: 'POST', path: '/profile/identity/v4.1/Users/.search', status: 429, durationMs: 5 });
    publisher.observer({ method: 'POST', path: '/profile/v4/Bulk', errorCode: 'ECONNRESET', durationMs: 12 });
    await publisher.stop();
    const res = await fetch(`${h.url}/metrics`, { headers: { authorization: `Bearer ${TEST_AUTH.metricsToken}` } });
    const text = await res.text();
    expect(text).toContain('provision_rows{state="done"} 3');
    expect(text).toContain('provision_rows{state="extension_failed"} 1');
    expect(text).toContain('provision_drops{status="complete"} 1');
    expect(text).toMatch(/provision_queue_jobs\{queue="identity",state="waiting"\} [1-9]/);
    expect(text).toContain(
      'provision_concur_calls_total{endpoint="/profile/identity/v4.1/Users/{id}",method="PATCH",status="200"} 2',
    );
    expect(text).toContain(
      'provision_concur_calls_total{endpoint="/profile/v4/Bulk",method="POST",status="ECONNRESET"} 1',
    );
    expect(text).toContain('provision_concur_rate_limited_total{endpoint="/profile/identity/v4.1/Users/.search"} 1');
    expect(text).toContain('provision_concur_retries_total{endpoint="/profile/v4/Bulk",reason="network"} 1');
    expect(text).toContain(
      'provision_concur_call_duration_seconds_bucket{endpoint="/profile/identity/v4.1/Users/{id}",le="0.05"} 1',
    );
    expect(text).toContain(
      'provision_concur_call_duration_seconds_bucket{endpoint="/profile/identity/v4.1/Users/{id}",le="5"} 2',
    );
    expect(text).toContain(
      'provision_concur_call_duration_seconds_count{endpoint="/profile/identity/v4.1/Users/{id}"} 2',
    );
  });

  it('exposes the rate each API family runs at and when Concur last answered 429', async () => {
    const config = loadConfig({ QUEUE_PREFIX: h.prefix, UPS_MAX_RPS: '12' });
    const identity = createRateLimiter('identity', { redis: h.redis, config });
    const ups = createRateLimiter('ups', { redis: h.redis, config });
    await Promise.all([identity.acquire(), ups.acquire()]);
    await identity.block(100);
    await Promise.all([identity.stop(), ups.stop()]);
    const text = await (
      await fetch(`${h.url}/metrics`, { headers: { authorization: `Bearer ${TEST_AUTH.metricsToken}` } })
    ).text();
    // Auto starts at 5/s (cut once by the 429); UPS is pinned at 12/s and never answered 429.
    const rate = /provision_rate_limit_rps\{api="identity"\} ([\d.]+)/.exec(text)?.[1];
    expect(Number(rate)).toBeCloseTo(4.5, 5);
    expect(text).toContain('provision_rate_limit_rps{api="ups"} 12');
    const last429 = /provision_concur_last_429_timestamp_seconds\{api="identity"\} ([\d.]+)/.exec(text)?.[1];
    expect(Number(last429)).toBeGreaterThan(Date.now() / 1000 - 60);
    expect(text).toContain('provision_concur_last_429_timestamp_seconds{api="ups"} 0');
    const d = (await (await h.get('/drops/seeded01')).json()) as { rateLimits: Record<string, unknown> };
    expect(d.rateLimits).toMatchObject({
      identity: { mode: 'auto', rps: Number(rate) },
      ups: { mode: 'fixed', rps: 12 },
    });
  });
});

describe('server: uploads of a legacy employee import', () => {
  let h: ServerHarness;
  beforeAll(async () => {
    h = await startServer({ uploadMaxBytes: 4096 });
  });
  afterAll(async () => h.close());

  it('ingests an uploaded legacy employee import (Windows-1252 when ?encoding says so): one row per person', async () => {
    const text = [
      recordLine('100', { 2: '0', 3: 'SSO', 4: 'UPDATE', 5: 'EN', 6: 'N', 7: 'N' }),
      recordLine('305', { 2: 'Renée', 4: 'Doe', 5: 'U1', 6: 'u1@example.com', 8: 'u1@example.com', 15: 'Y' }),
      recordLine('350', { 2: 'U1', 10: 'Engineer' }),
      recordLine('650', { 2: 'U1' }),
    ].join('\r\n');
    const body = Buffer.from(text, 'latin1');
    const res = await h.get('/drops?filename=employee_p0001_20240101020304.txt&encoding=windows-1252', {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(res.status).toBe(201);
    const created = (await res.json()) as { dropId: string; rows: number };
    expect(created.rows).toBe(2);
    const [person] = await h.ledger.getRows<{ givenName: string; lines: number[] }>(created.dropId, [1]);
    expect(person?.data).toMatchObject({ givenName: 'Renée', lines: [2, 3] });
    expect((await h.ledger.getDrop(created.dropId))?.meta.format).toBe('employee-import');
    const bad = await h.get('/drops?filename=x.txt&encoding=ebcdic', {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(bad.status).toBe(400);
  });
});
