import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/demo/processes.ts';
import { STACK_AUTH } from '../helpers/stack.ts';
import { person, writeCsvDrop } from '../helpers/drops.ts';
import { startStack, type Stack } from '../helpers/stack.ts';

let stack: Stack | undefined;

/** Identity calls the simulator answered, and how many of them with 429. */
async function identityCalls(simUrl: string): Promise<{ calls: number; throttled: number }> {
  const stats = (await (await fetch(`${simUrl}/_sim/stats`)).json()) as {
    routes: Record<string, Record<string, number>>;
  };
  let calls = 0;
  let throttled = 0;
  for (const [route, statuses] of Object.entries(stats.routes)) {
    if (!route.includes('/profile/identity/')) continue;
    for (const [status, n] of Object.entries(statuses)) {
      calls += n;
      if (status === '429') throttled += n;
    }
  }
  return { calls, throttled };
}

afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

describe('identity workers in separate processes', () => {
  it(
    'share one rate limit: two processes at IDENTITY_MAX_RPS=20 never exceed a simulator limit of 24/s',
    { timeout: 120_000 },
    async () => {
      stack = await startStack({ env: { IDENTITY_MAX_RPS: '20', SIM_IDENTITY_RPS: '24', IDENTITY_CONCURRENCY: '8' } });
      stack.start('worker-identity-2', ['worker', 'identity']);
      const path = writeCsvDrop(Array.from({ length: 300 }, (_, i) => person(i + 1)));
      const started = Date.now();
      const ingest = await runCli(['ingest', path, '--wait', '--json'], stack.env);
      const elapsedS = (Date.now() - started) / 1000;
      expect(ingest.code, ingest.stderr + (await stack.logs())).toBe(0);
      const summary = JSON.parse(ingest.stdout.trim()) as { rows: number; states: Record<string, number> };
      expect(summary).toMatchObject({ rows: 300, states: { done: 300, identity_failed: 0 } });

      const { calls, throttled } = await identityCalls(stack.simUrl);
      // 300 creates + 6 batched look-ups, none refused: the two processes stayed under the shared limit.
      expect(calls).toBe(306);
      expect(throttled).toBe(0);
      // At 20/s (after a one-second burst) 306 calls cannot take less than ~14 s.
      expect(elapsedS).toBeGreaterThan(13);
    },
  );

  it(
    'find a limit they are not told: two processes in auto mode share one rate, cut on 429 and show it',
    { timeout: 180_000 },
    async () => {
      const hidden = 30;
      stack = await startStack({
        server: true,
        env: { IDENTITY_MAX_RPS: 'auto', SIM_IDENTITY_RPS: String(hidden), IDENTITY_CONCURRENCY: '8' },
      });
      stack.start('worker-identity-2', ['worker', 'identity']);
      const path = writeCsvDrop(Array.from({ length: 800 }, (_, i) => person(i + 1)));
      const ingest = await runCli(['ingest', path, '--wait', '--json'], stack.env);
      expect(ingest.code, ingest.stderr + (await stack.logs())).toBe(0);
      const summary = JSON.parse(ingest.stdout.trim()) as { dropId: string; states: Record<string, number> };
      expect(summary.states).toMatchObject({ done: 800, identity_failed: 0 });

      const { calls, throttled } = await identityCalls(stack.simUrl);
      // Nothing says 30/s but Concur's 429s: the fleet must have gone past it to learn it, and
      // found it quickly enough that few calls were refused.
      expect(throttled).toBeGreaterThan(0);
      expect(throttled / calls).toBeLessThan(0.1);

      const status = await runCli(['status', summary.dropId, '--json'], stack.env);
      const shown = JSON.parse(status.stdout) as {
        rateLimits: { identity: { mode: string; rps: number; last429At: string } };
      };
      // Timestamps in --json are ISO 8601 (docs/errors.md#with---json).
      const last429At = Date.parse(shown.rateLimits.identity.last429At);
      expect(shown.rateLimits.identity.mode).toBe('auto');
      expect(shown.rateLimits.identity.rps).toBeGreaterThan(0);
      expect(shown.rateLimits.identity.rps).toBeLessThanOrEqual(100);
      expect(last429At).toBeGreaterThan(Date.now() - 120_000);
      const text = await runCli(['status', summary.dropId], stack.env);
      expect(text.stdout).toMatch(/rate identity +\d+\.\d\/s \(auto\), last 429 at /);

      const auth = `Basic ${Buffer.from(`${STACK_AUTH.user}:${STACK_AUTH.password}`).toString('base64')}`;
      const metrics = await (await fetch(`${stack.serverUrl}/metrics`, { headers: { authorization: auth } })).text();
      expect(metrics).toContain(`provision_rate_limit_rps{api="identity"} ${shown.rateLimits.identity.rps}`);
      expect(metrics).toContain(`provision_concur_last_429_timestamp_seconds{api="identity"} ${last429At / 1000}`);
    },
  );
});
