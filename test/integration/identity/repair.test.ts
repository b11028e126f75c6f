import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ingestDrop } from '../../../src/producers/ingest.ts';
import { createLogger } from '../../../src/shared/logger.ts';
import { createStrandedRowsRepair } from '../../../src/workers/identity/repair.ts';
import { person, writeCsvDrop } from '../../helpers/drops.ts';
import { pipelineHarness, waitForComplete, type PipelineHarness } from '../../helpers/pipeline.ts';
import { startSimulator, type StartedSimulator } from '../../helpers/simulator.ts';
import { ENT, simUsers } from '../../helpers/sim-data.ts';

const log = createLogger({ level: 'silent' });

let sim: StartedSimulator;
let h: PipelineHarness;

beforeEach(async () => {
  sim = await startSimulator();
  h = pipelineHarness(sim.baseUrl);
});

afterEach(async () => {
  await h.close();
  await sim.close();
});

/** A drop whose jobs are gone while its rows are open: E1 waits for its manager E2, E2 was never processed. */
async function strandedDrop(): Promise<string> {
  const path = writeCsvDrop([person(1, { managerEmployeeNumber: 'E2' }), person(2), person(3)]);
  const { dropId } = await ingestDrop({ ledger: h.ledger, identityQueue: h.queues.identity, log }, { path });
  await h.queues.identity.drain();
  expect(await h.ledger.deferFor(dropId, 2, 1)).toBe(true);
  await h.ledger.transition(dropId, 3, 'unchanged');
  return dropId;
}

const repair = () => createStrandedRowsRepair({ ledger: h.ledger, identityQueue: h.queues.identity, redis: h.redis, prefix: h.prefix, log, quietMs: 300 });

describe('stranded-rows repair', () => {
  it('re-enqueues the open rows of a running drop once the identity queue stays idle; the drop then completes', async () => {
    const dropId = await strandedDrop();
    expect(await repair().runOnce()).toBe(2);
    h.startIdentityWorker();
    await waitForComplete(h.ledger, dropId);
    expect((await h.ledger.getDrop(dropId))?.counts).toMatchObject({ done: 2, unchanged: 1, manager_wait: 0, pending: 0 });
    const byEmp = new Map((await simUsers(sim)).map((u) => [u[ENT].employeeNumber, u]));
    expect(byEmp.get('E1')?.[ENT].manager?.value).toBe(byEmp.get('E2')?.id);
  });

  it('leaves the rows alone while the identity queue has a job, or the drop is not running', async () => {
    const dropId = await strandedDrop();
    await h.queues.identity.add('identity', { dropId, rows: [2] });
    expect(await repair().runOnce()).toBe(0);
    await h.queues.identity.drain();
    await h.ledger.setStatusIf(dropId, ['running'], 'paused');
    expect(await repair().runOnce()).toBe(0);
    expect(await h.queues.identity.count()).toBe(0);
  });

  it('one check at a time across processes', async () => {
    await strandedDrop();
    const [a, b] = await Promise.all([repair().runOnce(), repair().runOnce()]);
    expect(a + b).toBe(2);
  });
});
