import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { existingUserBody } from '../../src/demo/generate.ts';
import { SIM_DEFAULTS } from '../../src/shared/config.ts';
import type { DropView } from '../../src/shared/ledger/ledger.ts';
import { ACTIVE_STATES } from '../../src/shared/ledger/states.ts';
import { round } from './args.ts';
import { benchDrop, writeDrop, type DropShape } from './drops.ts';
import { diffStats, type SimStatsSnapshot } from './sim.ts';
import type { BenchStack } from './stack.ts';

export interface DropRun {
  dropId: string;
  rows: number;
  states: Record<string, number>;
  /** From the start of the ingest to the drop's completion. */
  seconds: number;
  ingestSeconds: number;
  /** From the start of the ingest until no row waits for the identity stage. */
  identitySeconds: number;
  /** Calls the simulator answered during the run. */
  calls: SimStatsSnapshot;
}

/**
 * Generates a drop, creates in Concur the people it says already exist, then ingests it and
 * waits for completion, timing the ingest, the identity stage and the whole drop.
 */
export async function runDrop(
  stack: BenchStack,
  people: number,
  shape: DropShape,
  options: {
    seed?: number;
    tag?: number;
    afterSeed?: () => Promise<void>;
    onTick?: (view: DropView) => void | Promise<void>;
  } = {},
): Promise<DropRun> {
  const dir = await mkdtemp(join(tmpdir(), 'provision-bench-drop-'));
  try {
    const drop = benchDrop(people, shape, options.seed, options.tag);
    if (drop.existing.length > 0)
      await stack.sim.createUsers(drop.existing.map((r) => existingUserBody(r, SIM_DEFAULTS.companyId)));
    // E.g. rate limits and latency, which must not slow the seeding down.
    await options.afterSeed?.();
    const file = join(dir, `bench-${shape}-${people}.csv`);
    await writeDrop(file, drop.records);
    return await timeDrop(stack, file, options.onTick);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function timeDrop(
  stack: BenchStack,
  file: string,
  onTick?: (view: DropView) => void | Promise<void>,
  force = false,
): Promise<DropRun> {
  const before = await stack.sim.stats();
  const t0 = performance.now();
  const ingest = await stack.ingest(file, force);
  const tIngested = performance.now();
  let tIdentity: number | undefined;
  const final = await stack.waitComplete(ingest.dropId, {
    onTick: async (view) => {
      if (
        tIdentity === undefined &&
        view.meta.status !== 'ingesting' &&
        (view.counts.pending ?? 0) + (view.counts.manager_wait ?? 0) === 0
      )
        tIdentity = performance.now();
      await onTick?.(view);
    },
  });
  const tDone = performance.now();
  const calls = diffStats(before, await stack.sim.stats());
  const states = Object.fromEntries(
    Object.entries(final.counts).filter(([s, n]) => n > 0 && !(ACTIVE_STATES as readonly string[]).includes(s)),
  );
  return {
    dropId: ingest.dropId,
    rows: ingest.rows,
    states,
    seconds: round((tDone - t0) / 1000, 2),
    ingestSeconds: round((tIngested - t0) / 1000, 2),
    identitySeconds: round(((tIdentity ?? tDone) - t0) / 1000, 2),
    calls,
  };
}
