import { afterEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { runCli } from '../../src/demo/processes.ts';
import { Ledger } from '../../src/shared/ledger/ledger.ts';
import { ProvisionStore } from '../../src/shared/provisions/store.ts';
import { createQueues } from '../../src/shared/queues/index.ts';
import { TEST_REDIS_URL } from '../helpers/redis.ts';
import { person, writeCsvDrop } from '../helpers/drops.ts';
import { startStack, type Stack } from '../helpers/stack.ts';

const SPEND = 'urn:ietf:params:scim:schemas:extension:spend:2.0:User';
const spend = {
  'spend.country': 'US',
  'spend.reimbursementCurrency': 'USD',
  'spend.locale': 'en-US',
  'spend.roles': 'EXP_USER',
};

let stack: Stack | undefined;
let redis: Redis | undefined;
afterEach(async () => {
  await stack?.stop();
  redis?.disconnect();
  stack = undefined;
  redis = undefined;
});

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('status checks that are gone, in real processes', () => {
  it(
    'a status check removed mid-drop (as Bull Board does) is created again and the rows end done; with status reads refused (401) the rows end timed_out with PROV_ERR_STATUS_TIMEOUT at STATUS_DEADLINE_MS',
    { timeout: 150_000 },
    async () => {
      const deadlineMs = 10_000;
      stack = await startStack({
        env: {
          // The first check waits long enough for the test to remove it; the sweep runs often.
          STATUS_FIRST_DELAY_MS: '4000',
          STATUS_SWEEP_INTERVAL_MS: '300',
          STATUS_DEADLINE_MS: String(deadlineMs),
        },
      });
      redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
      const ledger = new Ledger(redis, stack.prefix);
      const store = new ProvisionStore(redis, stack.prefix);
      const queues = createQueues(redis, stack.prefix);
      try {
        // --- a removed status check ---
        const removed = writeCsvDrop(Array.from({ length: 8 }, (_, i) => person(i + 1, spend)));
        const first = await runCli(['ingest', removed], stack.env);
        expect(first.code, first.stderr).toBe(0);
        const jobId = await until(
          'a delayed status check',
          async () => {
            for await (const p of store.provisions()) {
              const id = await store.statusJobOf(p.provisionId);
              const job = id === undefined ? undefined : await queues.status.getJob(id);
              if (job && (await job.getState()) === 'delayed') {
                await job.remove();
                return id;
              }
            }
            return undefined;
          },
          60_000,
        );
        const [dropA] = await ledger.listDrops(1);
        const viewA = await until(
          'the first drop to complete',
          async () => {
            const v = await ledger.getDrop(dropA!);
            return v?.meta.status === 'complete' ? v : undefined;
          },
          30_000,
        );
        expect(viewA.counts.done, await stack.logs()).toBe(8);
        expect(viewA.terminal).toBe(8);
        expect(await queues.status.getJob(jobId)).toBeUndefined();
        const users = (
          (await (await fetch(`${stack.simUrl}/_sim/state`)).json()) as { users: Record<string, unknown>[] }
        ).users;
        expect(users.filter((u) => (u[SPEND] as { country?: string } | undefined)?.country === 'US')).toHaveLength(8);
        expect(await stack.logs()).toContain('status check was gone: created it again');

        // --- status reads refused for longer than the deadline ---
        const patched = await fetch(`${stack.simUrl}/_sim/config`, {
          method: 'PATCH',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ statusUnauthorized: true }),
        });
        expect(patched.ok).toBe(true);
        const refused = writeCsvDrop(Array.from({ length: 6 }, (_, i) => person(i + 101, spend)));
        const started = Date.now();
        const second = await runCli(['ingest', refused, '--wait', '--json'], stack.env);
        const summary = JSON.parse(second.stdout.trim() || '{}') as {
          dropId: string;
          rows: number;
          failed: number;
          states: Record<string, number>;
        };
        expect(summary, second.stderr + (await stack.logs())).toMatchObject({
          rows: 6,
          failed: 6,
          states: { timed_out: 6 },
        });
        expect(Date.now() - started).toBeGreaterThanOrEqual(deadlineMs);
        expect(second.code).toBe(1);
        const viewB = await ledger.getDrop(summary.dropId);
        expect(viewB?.terminal).toBe(6);
        expect(viewB?.counts.extension_submitted ?? 0).toBe(0);
        const report = await runCli(['report', summary.dropId, '--format', 'jsonl'], stack.env);
        const lines = report.stdout
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as { state: string; errorCode: string });
        expect(lines).toHaveLength(6);
        for (const l of lines) expect(l).toMatchObject({ state: 'timed_out', errorCode: 'PROV_ERR_STATUS_TIMEOUT' });
      } finally {
        await queues.close();
      }
    },
  );
});
