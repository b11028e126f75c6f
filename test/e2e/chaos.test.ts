import { describe, expect, it } from 'vitest';
import { ACTIVE_STATES } from '../../src/shared/ledger/states.ts';
import { onPath } from '../../src/demo/processes.ts';
import { runChaos } from '../chaos/harness.ts';
import { expectChaosOutcome } from '../chaos/expect.ts';

/*
 * CI-sized chaos (the long variant is `npm run test:chaos`): 1,500 rows with extension data,
 * two workers per role, faults on, 10 seeded kill -9s over every role and one Redis restart.
 */
describe.skipIf(!onPath('redis-server'))('chaos (e2e, real processes)', () => {
  it('loses nothing and duplicates nothing through kill -9s, a Redis restart and simulator faults', async () => {
    const result = await runChaos(
      {
        rows: 1500,
        kills: 10,
        seed: 20261128,
        workersPerRole: 2,
        killGapMs: [800, 1800],
        downMs: [300, 1500],
        identityRps: 300,
        upsRps: 8,
        settleTimeoutMs: 150_000,
      },
      (line) => process.stderr.write(`${line.slice(0, 4000)}\n`),
    );
    expect(result.kills.length).toBe(10);
    expect(new Set(result.kills.map((k) => k.role))).toEqual(new Set(['identity', 'extension', 'status']));
    expect(result.redisRestarted).toBe(true);
    // The faults really happened.
    expect(result.faults['503'] ?? 0).toBeGreaterThan(0);
    expect(result.faults['429'] ?? 0).toBeGreaterThan(0);
    for (const s of ACTIVE_STATES) expect(result.counts[s]).toBe(0);
    expectChaosOutcome(result);
  });
});
