import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/demo/processes.ts';
import type { NotifyEvent } from '../../src/shared/queues/notify.ts';
import { person, writeCsvDrop } from '../helpers/drops.ts';
import { startScriptedServer, type ScriptedServer } from '../helpers/scripted-server.ts';
import { startStack, type Stack } from '../helpers/stack.ts';

/*
 * Notifications through real processes (docs/operations.md#notifications): every worker process
 * watches the drops, so four of them (identity, extension and two status workers) race for each
 * event; the sink must see it delivered once, even when it fails at first.
 */

const PUBLIC_URL = 'https://provisioning.example.com';
let stack: Stack;
let webhook: ScriptedServer;

beforeAll(async () => {
  // The first delivery fails: the event is retried, still delivered once.
  webhook = await startScriptedServer({ steps: [{ status: 503 }], fallback: () => ({ status: 200, body: 'ok' }) });
  stack = await startStack({
    env: { NOTIFY_WEBHOOK_URL: webhook.url, NOTIFY_POLL_MS: '200', NOTIFY_RETRY_DELAY_MS: '100', PUBLIC_URL },
  });
  stack.start('worker-status-2', ['worker', 'status']);
}, 120_000);
afterAll(async () => {
  await stack?.stop();
  await webhook?.close();
}, 60_000);

const eventsFor = (dropId: string): NotifyEvent[] =>
  webhook.requests.map((r) => JSON.parse(r.body) as NotifyEvent).filter((e) => e.dropId === dropId);

async function until(what: string, check: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${await stack.logs()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('notifications from the worker processes', () => {
  it(
    'a drop complete with failures is announced once, with its counts, top error and link',
    { timeout: 120_000 },
    async () => {
      const rows = [person(7001), person(7002), person(7003, { email: 'not-an-email' })];
      const result = await runCli(['ingest', writeCsvDrop(rows), '--wait', '--json'], stack.env);
      const { dropId } = JSON.parse(result.stdout.trim()) as { dropId: string };
      expect(result.code, result.stderr).toBe(1); // a row failed

      // The sink answers the first request 503: that attempt, then the retry that is delivered.
      await until('the delivered event', () => eventsFor(dropId).length >= 2);
      await new Promise((r) => setTimeout(r, 3_000)); // time for a duplicate to show up, if any
      const events = eventsFor(dropId);
      expect(events.map((e) => e.event)).toEqual(['drop.complete_with_failures', 'drop.complete_with_failures']);
      expect(events[0]).toMatchObject({
        status: 'complete',
        rows: 3,
        failed: 1,
        counts: expect.objectContaining({ done: 2, invalid: 1 }),
        topErrors: [{ code: 'PROV_ERR_INPUT', rows: 1 }],
        url: `${PUBLIC_URL}/#drop=${dropId}`,
      });
    },
  );
});
