import { describe, expect, it } from 'vitest';
import { ingestDrop } from '../../../src/producers/ingest.ts';
import { createLogger } from '../../../src/shared/logger.ts';
import { createStrandedRowsRepair } from '../../../src/workers/identity/repair.ts';
import { person, writeCsvDrop } from '../../helpers/drops.ts';
import { simulatorPipeline, waitForComplete } from '../../helpers/pipeline.ts';
import { ENT, simUsers } from '../../helpers/sim-data.ts';

const log = createLogger({ level: 'silent' });

const t = simulatorPipeline();

/** A drop whose jobs are gone while its rows are open: E1 waits for its manager E2, E2 was never processed. */
async function strandedDrop(): Promise<string> {
  const path = writeCsvDrop([person(1, { managerEmployeeNumber: 'E2' }), person(2), person(3)]);
  const { dropId } = await ingestDrop({ ledger: t.h.ledger, identityQueue: t.h.queues.identity, log }, { path });
  await t.h.queues.identity.drain();
  expect(await t.h.ledger.deferFor(dropId, 2, 1)).toBe(true);
  await t.h.ledger.transition(dropId, 3, 'unchanged');
  return dropId;
}

const repair = () =>
  createStrandedRowsRepair({
    ledger: t.h.ledger,
    identityQueue: t.h.queues.identity,
    redis: t.h.redis,
    prefix: t.h.prefix,
    log,
    quietMs: 300,
  });

describe('stranded-rows repair', () => {
  it('re-enqueues the open rows of a running drop once the identity queue stays idle; the drop then completes', async () => {
    const dropId = await strandedDrop();
    expect(await repair().runOnce()).toBe(2);
    t.h.startIdentityWorker();
    await waitForComplete(t.h.ledger, dropId);
    expect((await t.h.ledger.getDrop(dropId))?.counts).toMatchObject({
      done: 2,
      unchanged: 1,
      manager_wait: 0,
      pending: 0,
    });
    const byEmp = new Map((await simUsers(t.sim)).map((u) => [u[ENT].employeeNumber, u]));
    expect(byEmp.get('E1')?.[ENT].manager?.value).toBe(byEmp.get('E2')?.id);
  });

  it('leaves the rows alone while the identity queue has a job, or the drop is not running', async () => {
    const dropId = await strandedDrop();
    await t.h.queues.identity.add('identity', { dropId, rows: [2] });
    expect(await repair().runOnce()).toBe(0);
    await t.h.queues.identity.drain();
    await t.h.ledger.setStatusIf(dropId, ['running'], 'paused');
    expect(await repair().runOnce()).toBe(0);
    expect(await t.h.queues.identity.count()).toBe(0);
  });

  it('one check at a time across processes', async () => {
    await strandedDrop();
    const [a, b] = await Promise.all([repair().runOnce(), repair().runOnce()]);
    expect(a + b).toBe(2);
  });
});
