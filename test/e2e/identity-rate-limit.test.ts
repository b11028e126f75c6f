import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/demo/processes.ts';
import { person, writeCsvDrop } from '../helpers/drops.ts';
import { startStack, type Stack } from '../helpers/stack.ts';

let stack: Stack | undefined;

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

      const stats = (await (await fetch(`${stack.simUrl}/_sim/stats`)).json()) as {
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
      // 300 creates + 6 batched look-ups, none refused: the two processes stayed under the shared limit.
      expect(calls).toBe(306);
      expect(throttled).toBe(0);
      // At 20/s (after a one-second burst) 306 calls cannot take less than ~14 s.
      expect(elapsedS).toBeGreaterThan(13);
    },
  );
});
