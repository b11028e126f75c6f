import { describe, expect, it } from 'vitest';
import { runChaos } from './harness.ts';
import { expectChaosOutcome } from './expect.ts';

/*
 * The long chaos variant (`npm run test:chaos`), sized by env:
 *   CHAOS_ROWS (10000), CHAOS_KILLS (20), CHAOS_SEED (1), CHAOS_WORKERS (3 per role),
 *   CHAOS_IDENTITY_RPS (200), CHAOS_UPS_RPS (8), CHAOS_TIMEOUT_MS (1800000), CHAOS_FOREIGN_ROWS (20).
 * Every way Concur fails is on, as in the CI-sized run (test/chaos/harness.ts).
 * Test files read the env directly: they are not the app (loadConfig is the app's only reader).
 */
const num = (name: string, def: number): number => {
  const v = process.env[name];
  return v === undefined || v === '' ? def : Number(v);
};

describe('chaos, long variant', () => {
  const rows = num('CHAOS_ROWS', 10_000);
  const kills = num('CHAOS_KILLS', 20);
  it(`${rows} rows, ${kills} kill -9s, one Redis restart: nothing lost, nothing doubled`, async () => {
    const result = await runChaos(
      {
        rows,
        kills,
        seed: num('CHAOS_SEED', 1),
        workersPerRole: num('CHAOS_WORKERS', 3),
        killGapMs: [1000, 4000],
        downMs: [300, 3000],
        identityRps: num('CHAOS_IDENTITY_RPS', 200),
        upsRps: num('CHAOS_UPS_RPS', 8),
        settleTimeoutMs: num('CHAOS_TIMEOUT_MS', 1_800_000),
        foreignRows: num('CHAOS_FOREIGN_ROWS', 20),
      },
      (line) => process.stderr.write(`${line.slice(0, 4000)}\n`),
    );
    expect(result.kills.length).toBe(kills);
    expect(result.redisRestarted).toBe(true);
    expect(result.injected.applyThenFail ?? 0).toBeGreaterThan(0);
    expect(result.relocatedAt).toBeDefined();
    process.stderr.write(
      `${JSON.stringify({ rows, kills, durationMs: result.durationMs, counts: result.counts, injected: result.injected, statuses: result.faults, refreshFallbacks: result.refreshFallbacks, repairs: result.repairs })}\n`,
    );
    expectChaosOutcome(result);
  });
});
