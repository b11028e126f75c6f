import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { generateDrop, toCsv, type DemoRecord } from '../../src/demo/generate.ts';
import { onPath, waitUntil } from '../../src/demo/processes.ts';
import { Ledger } from '../../src/shared/ledger/ledger.ts';
import { ACTIVE_STATES } from '../../src/shared/ledger/states.ts';
import { startStack } from '../helpers/stack.ts';
import { startPrivateRedis } from '../helpers/redis-server.ts';
import { runCli } from '../../src/demo/processes.ts';
import { chaosEnv, patchSim, simState } from '../chaos/harness.ts';

const terminal = async (ledger: Ledger, dropId: string): Promise<number> =>
  (await ledger.getDrop(dropId))?.terminal ?? 0;

describe.skipIf(!onPath('redis-server'))('outages (e2e, real processes)', () => {
  it('a worker receiving SIGTERM mid-batch drains and loses nothing', async () => {
    const redisServer = await startPrivateRedis();
    // Long enough a deadline that the drain, not the deadline, ends the worker.
    const stack = await startStack({ env: chaosEnv(redisServer.url, { SHUTDOWN_DEADLINE_MS: '60000' }) });
    const redis = new Redis(redisServer.url, { maxRetriesPerRequest: null });
    try {
      // Slow answers so batches are in flight when the signal comes.
      await patchSim(stack.simUrl, { latencyMs: 150, identityRps: 60, burstSeconds: 0.2 });
      const drop = generateDrop({ people: 400, seed: 11 });
      const file = join(stack.logDir, 'sigterm.csv');
      await writeFile(file, toCsv(drop.records));
      const ingest = await runCli(['ingest', file, '--json'], stack.env);
      const dropId = (JSON.parse(ingest.stdout.trim()) as { dropId: string }).dropId;
      const ledger = new Ledger(redis, stack.prefix);
      await waitUntil('some rows done', async () => (await terminal(ledger, dropId)) > 60, 60_000);
      for (const role of ['identity', 'extension'] as const) {
        const victim = stack.children.find((c) => c.name === `worker-${role}`)!;
        victim.process.kill('SIGTERM');
        const code = await victim.exited;
        expect(code, `${role} exit code; log:\n${(await stack.logs()).slice(-3000)}`).toBe(0);
        stack.start(`worker-${role}-again`, ['worker', role]);
      }
      await waitUntil('every row terminal', async () => (await terminal(ledger, dropId)) === 400, 120_000);
      const view = (await ledger.getDrop(dropId))!;
      for (const s of ACTIVE_STATES) expect(view.counts[s]).toBe(0);
      expect(view.counts.invalid).toBe(drop.bad.length);
      // People the drop deactivates were never in this simulator: those rows end unchanged.
      expect(view.counts.unchanged, JSON.stringify(view.counts)).toBe(drop.deactivated.length);
      expect(view.counts.done, JSON.stringify(view.counts)).toBe(400 - drop.bad.length - drop.deactivated.length);
      const names = (await simState(stack.simUrl)).map((u) => u.userName);
      expect(names.length).toBe(new Set(names).size);
      expect(names.length).toBe(400 - drop.bad.length - drop.deactivated.length);
    } finally {
      redis.disconnect();
      await stack.stop();
      await redisServer.stop();
    }
  });

  // The issue says 30 s; CI waits 20 s (the long variant keeps 30 s via CHAOS_SIM_DOWN_MS).
  it('the simulator down for a while (stopped, restarted on the same port): the pipeline waits and resumes', async () => {
    const downMs = Number(process.env.CHAOS_SIM_DOWN_MS ?? 20_000);
    const redisServer = await startPrivateRedis();
    const stack = await startStack({ env: chaosEnv(redisServer.url) });
    const redis = new Redis(redisServer.url, { maxRetriesPerRequest: null });
    try {
      await patchSim(stack.simUrl, { identityRps: 30, burstSeconds: 0.2 });
      // Identity only, no managers: the restarted simulator starts empty, so nothing may refer to
      // people it no longer holds.
      const drop = generateDrop({ people: 300, seed: 5, badEvery: 1_000_000 });
      const records: DemoRecord[] = drop.records.map((r) => ({
        ...r,
        active: 'true',
        managerEmployeeNumber: '',
        'spend.country': '',
        'spend.reimbursementCurrency': '',
        'spend.locale': '',
        'spend.roles': '',
        'spend.reportApproverEmployeeNumber': '',
        'travel.ruleClass': '',
        'travel.managerEmployeeNumber': '',
      }));
      const file = join(stack.logDir, 'sim-down.csv');
      await writeFile(file, toCsv(records));
      const ingest = await runCli(['ingest', file, '--json'], stack.env);
      const dropId = (JSON.parse(ingest.stdout.trim()) as { dropId: string }).dropId;
      const ledger = new Ledger(redis, stack.prefix);
      await waitUntil('some rows done', async () => (await terminal(ledger, dropId)) > 30, 60_000);
      const sim = stack.children.find((c) => c.name === 'simulator')!;
      sim.process.kill('SIGKILL');
      await sim.exited;
      const atStop = await terminal(ledger, dropId);
      await new Promise((r) => setTimeout(r, downMs));
      const during = await terminal(ledger, dropId);
      const again = stack.start('simulator-again', ['simulator']);
      await waitUntil('simulator again', async () => (await fetch(`${stack.simUrl}/_sim/config`)).ok, 30_000, again);
      await patchSim(stack.simUrl, { identityRps: 30, burstSeconds: 0.2 });
      await waitUntil('every row terminal', async () => (await terminal(ledger, dropId)) === 300, 120_000);
      const view = (await ledger.getDrop(dropId))!;
      expect(view.counts.done, JSON.stringify(view.counts)).toBe(300);
      // Rows answered before the kill may still land; nothing fails while Concur is away.
      expect(during).toBeLessThan(300);
      expect(view.counts.identity_failed).toBe(0);
      const names = (await simState(stack.simUrl)).map((u) => u.userName);
      expect(names.length).toBe(new Set(names).size);
      expect(names.length).toBeGreaterThanOrEqual(300 - during);
      expect(atStop).toBeLessThan(300);
    } finally {
      redis.disconnect();
      await stack.stop();
      await redisServer.stop();
    }
  });
});
