import { describe, expect, it } from 'vitest';
import { ACTIVE_STATES } from '../../src/shared/ledger/states.ts';
import { onPath } from '../../src/demo/processes.ts';
import { runChaos } from '../chaos/harness.ts';
import { expectChaosOutcome } from '../chaos/expect.ts';

/*
 * CI-sized chaos (the long variant is `npm run test:chaos`): 3,000 rows with extension data,
 * two workers per role, every way Concur fails on (lost answers, lagging search, 3-s tokens with
 * rotation, foreign userNames, a move of data center), 10 seeded kill -9s over every role and one
 * Redis restart: 0 duplicate users, 0 rows failed that should be done, 0 lost.
 */
describe.skipIf(!onPath('redis-server'))('chaos (e2e, real processes)', () => {
  it('loses nothing and duplicates nothing through kill -9s, a Redis restart and simulator faults', async () => {
    const result = await runChaos(
      {
        rows: 3000,
        kills: 10,
        seed: 20261128,
        workersPerRole: 2,
        killGapMs: [800, 1800],
        downMs: [300, 1500],
        identityRps: 300,
        upsRps: 8,
        settleTimeoutMs: 300_000,
        foreignRows: 5,
      },
      (line) => process.stderr.write(`${line.slice(0, 4000)}\n`),
    );
    process.stderr.write(
      `chaos summary ${JSON.stringify({ rows: result.rows, durationMs: result.durationMs, counts: result.counts, injected: result.injected, statuses: result.faults, refreshFallbacks: result.refreshFallbacks, repairs: result.repairs, relocatedAt: result.relocatedAt })}\n`,
    );
    expect(result.kills.length).toBe(10);
    expect(new Set(result.kills.map((k) => k.role))).toEqual(new Set(['identity', 'extension', 'status']));
    expect(result.redisRestarted).toBe(true);
    // The faults really happened.
    expect(result.faults['503'] ?? 0).toBeGreaterThan(0);
    expect(result.faults['429'] ?? 0).toBeGreaterThan(0);
    expect(result.injected.applyThenFail ?? 0).toBeGreaterThan(0);
    expect(result.faults['409'] ?? 0).toBeGreaterThan(0);
    expect(result.relocatedAt).toBeDefined();
    expect(result.foreign).toHaveLength(5);
    for (const s of ACTIVE_STATES) expect(result.counts[s]).toBe(0);
    expectChaosOutcome(result);
  });
});
