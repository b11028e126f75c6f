import { Worker, type Queue } from 'bullmq';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pauseDrop } from '../../../src/shared/guards/drop-control.ts';
import { queueKeyPrefix } from '../../../src/shared/keys.ts';
import { Ledger, type NewRow } from '../../../src/shared/ledger/ledger.ts';
import { createLogger } from '../../../src/shared/logger.ts';
import { markNotificationsOn, scanForEvents, type NotifierDeps } from '../../../src/shared/notify/notifier.ts';
import { createNotifyQueue } from '../../../src/shared/notify/queue.ts';
import { WORKER_SETTINGS } from '../../../src/shared/queues/common.ts';
import { NOTIFY_QUEUE, type NotifyEvent, type NotifyTarget } from '../../../src/shared/queues/notify.ts';
import type { TokenRefusal } from '../../../src/shared/concur/token-cache.ts';
import { createNotifyProcessor } from '../../../src/workers/notify-processor.ts';
import { deletePrefix, testRedis, uniquePrefix } from '../../helpers/redis.ts';
import { startScriptedServer, type ScriptedServer } from '../../helpers/scripted-server.ts';

/*
 * Drop notifications against local HTTP sinks (real node http servers on port 0) over real Redis
 * and BullMQ: what each event says, retries with backoff, and one delivery per event however
 * many processes race to announce it.
 */

const log = createLogger({ level: 'silent' });
const PUBLIC_URL = 'https://provisioning.example.com';

/** One process's notifier: its own Redis connection, notify queue and worker. */
interface Process {
  deps: NotifierDeps;
  queue: Queue;
  worker: Worker;
  close(): Promise<void>;
}

let prefix: string;
let redis: ReturnType<typeof testRedis>;
let ledger: Ledger;
let sinks: ScriptedServer[];
let processes: Process[];

beforeEach(() => {
  prefix = uniquePrefix('notify');
  redis = testRedis();
  ledger = new Ledger(redis, prefix);
  sinks = [];
  processes = [];
});

afterEach(async () => {
  for (const p of processes) await p.close();
  for (const s of sinks) await s.close();
  await deletePrefix(redis, prefix);
  await redis.quit();
});

async function sink(...steps: { status?: number }[]): Promise<ScriptedServer> {
  const s = await startScriptedServer({ steps, fallback: () => ({ status: 200, body: 'ok' }) });
  sinks.push(s);
  return s;
}

function startProcess(
  urls: Partial<Record<NotifyTarget, string>>,
  options: { retryDelayMs?: number; tokenRefusal?: () => Promise<TokenRefusal | undefined> } = {},
): Process {
  const connection = testRedis();
  const queue = createNotifyQueue(connection, prefix, { attempts: 5, retryDelayMs: options.retryDelayMs ?? 50 }, log);
  const worker = new Worker(NOTIFY_QUEUE, createNotifyProcessor({ urls, timeoutMs: 2_000, log }), {
    connection,
    prefix: queueKeyPrefix(prefix, NOTIFY_QUEUE),
    concurrency: 2,
    settings: WORKER_SETTINGS,
  });
  worker.on('error', () => undefined);
  const p: Process = {
    deps: {
      redis: connection,
      prefix,
      ledger: new Ledger(connection, prefix),
      queue,
      targets: Object.keys(urls) as NotifyTarget[],
      publicUrl: PUBLIC_URL,
      ...(options.tokenRefusal ? { tokenRefusal: options.tokenRefusal } : {}),
      log,
    },
    queue,
    worker,
    close: async () => {
      await worker.close();
      await queue.close();
      await connection.quit();
    },
  };
  processes.push(p);
  return p;
}

const bodies = (s: ScriptedServer): unknown[] => s.requests.map((r) => JSON.parse(r.body) as unknown);

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A drop straight in the ledger with `rows` rows in the given states, after `finishIngest`. */
async function seedDrop(id: string, rows: NewRow[], status: 'running' | 'held' = 'running'): Promise<void> {
  await ledger.createDrop({ id, file: `${id}.csv`, sha256: 'x'.repeat(64), format: 'csv', createdAt: Date.now() });
  await ledger.addRows(id, rows);
  if (status === 'held') await ledger.setDropFields(id, { reason: '3 rows deactivate people', heldAt: Date.now() });
  await ledger.finishIngest(id, rows.length, status);
}

const pending = (row: number): NewRow => ({ row, state: 'pending', data: { rowNumber: row } });
const failed = (row: number, code: string): NewRow => ({
  row,
  state: 'identity_failed',
  outcome: { code, error: `row ${row} failed` },
});

describe('drop notifications', () => {
  it('a drop complete with failures is announced to the webhook (JSON) and Slack once: counts, top error codes, a link', async () => {
    const webhook = await sink();
    const slack = await sink();
    const p = startProcess({ webhook: webhook.url, slack: slack.url });
    await scanForEvents(p.deps); // notifications start: nothing older is announced
    // Rows recorded failed at ingest (addRows takes any state here), so the drop completes at once.
    await seedDrop('done1', [
      { row: 1, state: 'done', outcome: { uuid: 'u1' } },
      { row: 2, state: 'invalid', outcome: { code: 'PROV_ERR_INPUT', error: 'email: not an email' } },
      { row: 3, state: 'invalid', outcome: { code: 'PROV_ERR_INPUT', error: 'email: not an email' } },
      { row: 4, state: 'invalid', outcome: { code: 'PROV_ERR_INPUT', error: 'date: not a date' } },
    ]);
    expect((await ledger.getDrop('done1'))?.meta.status).toBe('complete');

    expect(await scanForEvents(p.deps)).toEqual([{ dropId: 'done1', key: 'complete' }]);
    expect(await scanForEvents(p.deps)).toEqual([]);
    await until('both deliveries', () => webhook.requests.length === 1 && slack.requests.length === 1);

    const event = bodies(webhook)[0] as NotifyEvent;
    expect(event).toEqual({
      event: 'drop.complete_with_failures',
      dropId: 'done1',
      file: 'done1.csv',
      status: 'complete',
      at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      rows: 4,
      counts: { done: 1, invalid: 3 },
      failed: 3,
      topErrors: [{ code: 'PROV_ERR_INPUT', rows: 3 }],
      url: `${PUBLIC_URL}/#drop=done1`,
    });
    expect(webhook.requests[0]!.headers['content-type']).toBe('application/json');
    const message = bodies(slack)[0] as { text: string; blocks: { type: string }[] };
    expect(message.text).toBe('Drop done1 (done1.csv) is complete with failures');
    expect(message.blocks.map((b) => b.type)).toEqual(['section', 'section', 'context']);
    expect(JSON.stringify(message.blocks)).toContain('PROV_ERR_INPUT ×3');
    expect(JSON.stringify(message.blocks)).toContain(`<${PUBLIC_URL}/#drop=done1|Open the drop page>`);
  });

  it('held, braked, paused by an operator and by a Concur refusal, complete: each announced once with its reason', async () => {
    const webhook = await sink();
    let refusal: TokenRefusal | undefined;
    const p = startProcess({ webhook: webhook.url }, { tokenRefusal: async () => refusal });
    await scanForEvents(p.deps);
    const events = (): NotifyEvent[] => bodies(webhook) as NotifyEvent[];

    await seedDrop('held1', [1, 2, 3].map(pending), 'held');
    await scanForEvents(p.deps);
    await until('held', () => events().length === 1);
    expect(events()[0]).toMatchObject({ event: 'drop.held', dropId: 'held1', reason: '3 rows deactivate people' });

    // The failure brake: 2 of 2 sent rows failed, over 50 % after 2 rows.
    await seedDrop('brake1', [failed(1, 'PROV_ERR_CONCUR'), failed(2, 'PROV_ERR_CONCUR'), pending(3)]);
    expect(await ledger.checkBrake('brake1', { minRows: 2, maxFailurePercent: 50 })).toBe('paused');
    await pauseDrop({ ledger }, 'held1').catch(() => undefined); // held: not pausable, nothing happens
    await seedDrop('op1', [pending(1)]);
    await pauseDrop({ ledger }, 'op1');
    await scanForEvents(p.deps);
    await until('braked and paused', () => events().length === 3);
    const byDrop = new Map(events().map((e) => [e.dropId, e]));
    expect(byDrop.get('brake1')).toMatchObject({
      event: 'drop.braked',
      reason: expect.stringContaining('MAX_FAILURE_PERCENT'),
    });
    expect(byDrop.get('op1')).toMatchObject({ event: 'drop.paused', reason: 'paused by the operator' });

    // Concur refuses the refresh token: every running drop waits, announced as paused with what to do.
    await seedDrop('run1', [pending(1)]);
    refusal = {
      code: 108,
      since: Date.now(),
      message: 'Concur refused the refresh token (108): issue a new company request token',
    };
    await scanForEvents(p.deps);
    await until('concur pause', () => events().length === 4);
    expect(events()[3]).toMatchObject({
      event: 'drop.paused',
      dropId: 'run1',
      status: 'running',
      reason: refusal.message,
    });

    // A drop that completes cleanly.
    await ledger.transition('run1', 1, 'done', { patch: { uuid: 'u1' } });
    refusal = undefined;
    await scanForEvents(p.deps);
    await until('complete', () => events().length === 5);
    expect(events()[4]).toMatchObject({ event: 'drop.complete', dropId: 'run1', failed: 0, counts: { done: 1 } });
    expect(events()[4]!.topErrors).toBeUndefined();

    // Nothing more, however often it looks.
    await scanForEvents(p.deps);
    await new Promise((r) => setTimeout(r, 300));
    expect(events()).toHaveLength(5);
  });

  it('a sink that fails twice then accepts gets the event three times and it is delivered once', async () => {
    const webhook = await sink({ status: 503 }, { status: 500 });
    const p = startProcess({ webhook: webhook.url }, { retryDelayMs: 100 });
    await scanForEvents(p.deps);
    await seedDrop('held2', [pending(1)], 'held');
    await scanForEvents(p.deps);
    await until('the third try', () => webhook.requests.length === 3);
    await until('the job done', async () => (await p.queue.getJobCounts('completed')).completed === 1);
    const job = (await p.queue.getJobs(['completed']))[0];
    expect(job?.attemptsMade).toBe(3);
    expect(job?.returnvalue).toEqual({ status: 200 });
    await scanForEvents(p.deps);
    await new Promise((r) => setTimeout(r, 500));
    expect(webhook.requests).toHaveLength(3);
    expect(new Set(webhook.requests.map((r) => r.body)).size).toBe(1);
  });

  it('a sink that refuses the URL (404) is not retried', async () => {
    const webhook = await sink({ status: 404 });
    const p = startProcess({ webhook: webhook.url });
    await scanForEvents(p.deps);
    await seedDrop('held3', [pending(1)], 'held');
    await scanForEvents(p.deps);
    await until('the failure', async () => (await p.queue.getJobCounts('failed')).failed === 1);
    expect(webhook.requests).toHaveLength(1);
  });

  it('two processes racing on the same events deliver each once', async () => {
    const webhook = await sink();
    const a = startProcess({ webhook: webhook.url });
    const b = startProcess({ webhook: webhook.url });
    await scanForEvents(a.deps);
    for (let i = 1; i <= 5; i++) await seedDrop(`race${i}`, [pending(1)], 'held');
    // Both scan at the same moment, several times.
    await Promise.all([0, 1, 2].flatMap(() => [scanForEvents(a.deps), scanForEvents(b.deps)]));
    await until('five deliveries', () => webhook.requests.length >= 5);
    await new Promise((r) => setTimeout(r, 500));
    const delivered = (bodies(webhook) as NotifyEvent[]).map((e) => e.dropId).sort();
    expect(delivered).toEqual(['race1', 'race2', 'race3', 'race4', 'race5']);
  });

  it('a drop that ends after notifications were turned on, before their first scan, is announced', async () => {
    const webhook = await sink();
    const p = startProcess({ webhook: webhook.url });
    const on = Date.now();
    await markNotificationsOn(p.deps.redis, prefix, on);
    await seedDrop('quick1', [failed(1, 'PROV_ERR_INPUT')]);
    expect((await ledger.getDrop('quick1'))?.meta.status).toBe('complete');
    // The first scan comes a poll later; without the mark its own time would be the start.
    expect(await scanForEvents({ ...p.deps, now: () => on + 2_000 })).toEqual([
      { dropId: 'quick1', key: expect.any(String) as string },
    ]);
    await until('the event delivered', () => webhook.requests.length === 1);
  });

  it('events from before notifications were first on are never announced', async () => {
    const webhook = await sink();
    await seedDrop('old1', [pending(1)], 'held');
    await redis.hset(ledger.keys('old1').meta, 'heldAt', Date.now() - 60_000);
    const p = startProcess({ webhook: webhook.url });
    expect(await scanForEvents(p.deps)).toEqual([]);
    await new Promise((r) => setTimeout(r, 300));
    expect(webhook.requests).toHaveLength(0);
  });
});
