import type { Queue } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { ingestDrop } from '../../../src/producers/ingest.ts';
import { DEFAULT_GUARDS } from '../../../src/shared/guards/limits.ts';
import { person, writeCsvDrop } from '../../helpers/drops.ts';
import { simulatorPipeline, waitForComplete } from '../../helpers/pipeline.ts';
import { silent, until } from './support.ts';

/*
 * The failure brake names the error code most failed rows carry and what to check for it
 * (docs/safety.md#the-failure-brake): a Concur 503 storm is not "check the mapping".
 */
const t = simulatorPipeline({ GUARD_MIN_ROWS: '20', MAX_FAILURE_PERCENT: '50', IDENTITY_RETRY_ATTEMPTS: '2' });

const knobs = (patch: Record<string, unknown>): Promise<void> => t.sim.setKnobs(patch);

/** The harness's identity queue, but every job gets one attempt: its first failure is its last. */
function oneAttemptQueue(queue: Queue): Queue {
  return {
    addBulk: (jobs: Parameters<Queue['addBulk']>[0]) =>
      queue.addBulk(jobs.map((j) => ({ ...j, opts: { ...j.opts, attempts: 1 } }))),
  } as unknown as Queue;
}

describe('the failure brake says what to check', () => {
  it(
    'under a Concur 503 storm it names PROV_ERR_RETRYABLE and Concur, not the mapping',
    { timeout: 260_000 },
    async () => {
      // One job at a time: the first chunk's 50 failures trip the brake while the second waits.
      t.h.startIdentityWorker({ concurrency: 1 });
      // A first drop gets the token while Concur works (the token is cached; only the API then fails).
      const warm = await ingestDrop(
        { ledger: t.h.ledger, identityQueue: t.h.queues.identity, log: silent },
        { path: writeCsvDrop([person(1)]) },
      );
      await waitForComplete(t.h.ledger, warm.dropId);

      await knobs({ errorRate: 1 });
      const path = writeCsvDrop(Array.from({ length: 60 }, (_, i) => person(i + 10)));
      const { dropId } = await ingestDrop(
        {
          ledger: t.h.ledger,
          identityQueue: oneAttemptQueue(t.h.queues.identity),
          log: silent,
          guards: { ...DEFAULT_GUARDS, minRows: 20, maxFailurePercent: 50 },
        },
        { path },
      );
      const view = await until(
        'the brake',
        async () => {
          const v = await t.h.ledger.getDrop(dropId);
          return v?.meta.status === 'paused' ? v : undefined;
        },
        120_000,
      );
      const reason = String(view.meta.reason);
      expect(reason).toMatch(/^\d+ of \d+ rows sent failed \(100%, more than MAX_FAILURE_PERCENT=50%\)/);
      expect(reason).toContain('most with PROV_ERR_RETRYABLE');
      expect(reason).toContain("check Concur's status and the network to CONCUR_BASE_URL");
      expect(reason).not.toContain('mapping');
      expect(reason).toMatch(/then approve or cancel the drop$/);
      expect((view.meta as unknown as Record<string, unknown>).brakeCode).toBe('PROV_ERR_RETRYABLE');
      // What the operator reads agrees with the rows themselves.
      // The first chunk's look-up failed for good: each of its rows failed with Concur's 503.
      const failed = (await t.h.ledger.getRows(dropId, [1, 2, 3])).filter((r) => r.state === 'identity_failed');
      expect(failed.length).toBeGreaterThan(0);
      for (const r of failed) expect(r.outcome.code).toBe('PROV_ERR_RETRYABLE');
    },
  );

  it("when Concur rejects the rows' data it points at the mapping and the report", async () => {
    // The ledger's own scripts, as the extension and status stages drive them: 25 rows, 15 refused.
    const dropId = 'brakeinvalid1';
    await t.h.ledger.createDrop({
      id: dropId,
      file: 'hr.csv',
      sha256: 'x'.repeat(64),
      format: 'csv',
      createdAt: Date.now(),
    });
    await t.h.ledger.addRows(
      dropId,
      Array.from({ length: 26 }, (_, i) => ({ row: i + 1, state: 'pending' as const, data: { rowNumber: i + 1 } })),
    );
    // Row 26 stays pending: the drop is still running when the brake looks.
    await t.h.ledger.finishIngest(dropId, 26, 'running', Date.now());
    for (let row = 1; row <= 25; row += 1) {
      const code = row <= 12 ? 'PROV_ERR_INVALID' : row <= 15 ? 'PROV_ERR_NOT_FOUND' : undefined;
      await t.h.ledger.transition(dropId, row, code ? 'identity_failed' : 'done', {
        patch: code ? { code, error: 'Concur said no' } : { action: 'create' },
      });
    }
    expect(await t.h.ledger.checkBrake(dropId, { minRows: 20, maxFailurePercent: 50 })).toBe('paused');
    const view = await t.h.ledger.getDrop(dropId);
    const reason = String(view?.meta.reason);
    expect(reason).toContain('15 of 25 rows sent failed (60%');
    expect(reason).toContain('most with PROV_ERR_INVALID (12)');
    expect(reason).toContain('check the mapping');
    expect(reason).toContain('provision report DROP --states identity_failed,extension_failed');
    expect(reason).not.toContain("Concur's status");
  });
});
