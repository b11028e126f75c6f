import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/shared/logger.ts';
import { createStatusSweep, type SweepResult } from '../../../src/workers/status/sweep.ts';
import { extensionRow, startStage, type StageHarness } from '../../helpers/extension-stage.ts';

const log = createLogger({ level: 'silent' });

let stage: StageHarness | undefined;
afterEach(async () => {
  await stage?.close();
  stage = undefined;
});

function sweepOf(h: StageHarness, deadlineMs = h.config.STATUS_DEADLINE_MS) {
  return createStatusSweep({
    ledger: h.ledger,
    store: h.store,
    statusQueue: h.queues.status,
    redis: h.redis,
    prefix: h.prefix,
    log,
    deadlineMs,
    lockMs: 30_000,
  });
}

/** Seeds `n` identity_done rows of `dropId` and hands them to the extension stage. */
async function submit(h: StageHarness, dropId: string, n: number): Promise<void> {
  const rows = Array.from({ length: n }, (_, i) => extensionRow(i + 1));
  const uuids = await h.createUsers(rows.map((r) => ({ userName: r.userName, employeeNumber: r.employeeNumber })));
  await h.seedDrop(dropId, rows, uuids);
  await h.handoff.ready(
    dropId,
    rows.map((r) => r.rowNumber),
  );
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The one provision the drop was sent in, once its rows are submitted, with its status job. */
async function provisionWithJob(h: StageHarness): Promise<{ provisionId: string; jobId: string }> {
  return until('a submitted provision', async () => {
    for await (const p of h.store.provisions()) {
      const jobId = await h.store.statusJobOf(p.provisionId);
      if (jobId) return { provisionId: p.provisionId, jobId };
    }
    return undefined;
  });
}

describe('status sweep', () => {
  it('creates a status check removed as Bull Board removes it (job.remove()), once across two sweeps; the rows end done', async () => {
    // The first check waits a minute: only the sweep can settle these rows within the test.
    stage = await startStage({ env: { STATUS_FIRST_DELAY_MS: '60000' } });
    const h = stage;
    h.startWorkers();
    await submit(h, 'sweeprm', 5);
    const { provisionId, jobId } = await provisionWithJob(h);
    const job = await h.queues.status.getJob(jobId);
    expect(await job?.getState()).toBe('delayed');
    await job!.remove();
    expect(await h.queues.status.getJob(jobId)).toBeUndefined();

    // Two status processes sweeping at once: one check is created, not two.
    const results = await Promise.all([sweepOf(h).runOnce(), sweepOf(h).runOnce()]);
    expect(results.reduce((a, r) => a + r.recreated, 0)).toBe(1);
    expect(await h.store.statusJobOf(provisionId)).toBe(`st-${provisionId}-1`);

    await h.waitComplete('sweeprm', 30_000);
    const view = await h.ledger.getDrop('sweeprm');
    expect(view?.counts.done).toBe(5);
    expect(view?.terminal).toBe(5);
    expect(view?.counts.extension_submitted ?? 0).toBe(0);
    // The provision settled: a later sweep finds nothing to do.
    expect(await sweepOf(h).runOnce()).toEqual({ recreated: 0, timedOut: 0 });
  }, 60_000);

  it('creates again a status check that failed for good (401 on every attempt); the rows end done once the status reads work', async () => {
    stage = await startStage({ knobs: { statusUnauthorized: true } });
    const h = stage;
    h.startWorkers({ statusAttempts: 2 });
    await submit(h, 'sweepfail', 4);
    const { provisionId, jobId } = await provisionWithJob(h);
    await until(
      'the status check to fail for good',
      async () => ((await (await h.queues.status.getJob(jobId))?.getState()) === 'failed' ? true : undefined),
      20_000,
    );
    // Nothing runs for these rows any more: they would wait forever.
    expect((await h.ledger.getDrop('sweepfail'))?.counts.extension_submitted).toBe(4);

    await h.simJson('/_sim/config', { method: 'PATCH', body: JSON.stringify({ statusUnauthorized: false }) });
    expect(await sweepOf(h).runOnce()).toEqual({ recreated: 1, timedOut: 0 });
    expect(await h.store.statusJobOf(provisionId)).toBe(`st-${provisionId}-1`);
    await h.waitComplete('sweepfail', 30_000);
    const view = await h.ledger.getDrop('sweepfail');
    expect(view?.counts.done).toBe(4);
    expect(view?.terminal).toBe(4);
    // The failed job stays for inspection.
    expect(await (await h.queues.status.getJob(jobId))?.getState()).toBe('failed');
  }, 60_000);

  it('ends the rows timed_out with PROV_ERR_STATUS_TIMEOUT at STATUS_DEADLINE_MS while status reads keep answering 401', async () => {
    const deadlineMs = 6_000;
    stage = await startStage({ knobs: { statusUnauthorized: true }, env: { STATUS_DEADLINE_MS: String(deadlineMs) } });
    const h = stage;
    h.startWorkers({ statusAttempts: 2 });
    const started = Date.now();
    await submit(h, 'sweepdead', 6);
    await provisionWithJob(h);
    const total: SweepResult = { recreated: 0, timedOut: 0 };
    const sweep = sweepOf(h, deadlineMs);
    while (!(await h.ledger.isComplete('sweepdead'))) {
      if (Date.now() - started > deadlineMs + 20_000) throw new Error('the drop never completed');
      const r = await sweep.runOnce();
      total.recreated += r.recreated;
      total.timedOut += r.timedOut;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(Date.now() - started).toBeGreaterThanOrEqual(deadlineMs);
    // The check failed for good (2 attempts) before the deadline and was created again at least once.
    expect(total.recreated).toBeGreaterThanOrEqual(1);

    const view = await h.ledger.getDrop('sweepdead');
    expect(view?.meta.status).toBe('complete');
    expect(view?.counts.timed_out).toBe(6);
    expect(view?.terminal).toBe(6);
    expect(view?.counts.extension_submitted ?? 0).toBe(0);
    const rows = await h.ledger.getRows('sweepdead', [1, 2, 3, 4, 5, 6]);
    for (const r of rows) {
      expect(r.state).toBe('timed_out');
      expect(r.outcome.code).toBe('PROV_ERR_STATUS_TIMEOUT');
      expect(r.outcome.error).toMatch(/No final status from Concur for provision .* within 6000 ms of submission/);
    }
    // The sweep or the last check ended them; no provision is left to follow.
    const left: string[] = [];
    for await (const p of h.store.provisions()) left.push(p.provisionId);
    expect(left).toEqual([]);
  }, 60_000);
});
