import { createPlanLookup } from '../../../src/producers/plan-client.ts';
import type { PlanDeps } from '../../../src/producers/plan.ts';
import { createLogger } from '../../../src/shared/logger.ts';
import { identityWrites as countWrites, simStats } from '../../helpers/sim-data.ts';
import type { PipelineHarness } from '../../helpers/pipeline.ts';
import type { StartedSimulator } from '../../helpers/simulator.ts';

export { ENT, simUsers, seedPeople as seed, type SimUser } from '../../helpers/sim-data.ts';
export const silent = createLogger({ level: 'silent' });

/** Identity calls that change Concur (create, PATCH, PUT, DELETE): searches excluded. */
export async function identityWrites(sim: StartedSimulator): Promise<number> {
  return countWrites(await simStats(sim));
}

/** Plan deps on the harness: the same shared identity limiter and retry rules as the CLI. */
export function planDeps(h: PipelineHarness): { deps: PlanDeps; close(): Promise<void> } {
  const lookup = createPlanLookup(h.config, h.redis, silent);
  return {
    deps: {
      ledger: h.ledger,
      identityQueue: h.queues.identity,
      log: silent,
      identity: lookup.identity,
      call: lookup.call,
      matchOn: h.config.MATCH_ON,
      state: lookup.state,
    },
    close: () => lookup.close(),
  };
}

export async function until<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
