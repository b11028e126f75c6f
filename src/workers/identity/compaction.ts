import type { PersonAsOf } from '../../shared/identity/as-of.ts';
import { compactionLockKey } from '../../shared/keys.ts';
import type { Ledger } from '../../shared/ledger/ledger.ts';
import { startPeriodic, withRedisLock } from '../periodic.ts';
import type { Logger } from '../../shared/logger.ts';
import type { RedisConnection } from '../../shared/redis.ts';

export interface LedgerCompactionDeps {
  ledger: Ledger;
  redis: RedisConnection;
  prefix: string;
  log: Logger;
  /** The people's as-of entries: each pass also deletes the expired ones of a few buckets. */
  asOf?: Pick<PersonAsOf, 'pruneNext'>;
}

/** Drops looked at per pass: the most recent ones (older ones were compacted long ago). */
const RECENT_DROPS = 200;

/**
 * Compacts finished drops (see Ledger.compactDrop) so a completed migration's ledger costs a
 * fraction of its in-flight size, and prunes expired as-of entries (what a key's TTL did before
 * they shared bucket hashes). One process at a time (a Redis lock); returns the drops compacted.
 */
export function createLedgerCompaction(deps: LedgerCompactionDeps, lockMs: number) {
  const lockKey = compactionLockKey(deps.prefix);
  async function compactFinished(): Promise<number> {
    let compacted = 0;
    for (const dropId of await deps.ledger.listDrops(RECENT_DROPS)) {
      const t0 = Date.now();
      const { rows, pages } = await deps.ledger.compactDrop(dropId);
      if (rows === 0) continue;
      compacted += 1;
      deps.log.info({ dropId, rows, pages, ms: Date.now() - t0 }, 'finished drop compacted');
    }
    const pruned = (await deps.asOf?.pruneNext()) ?? 0;
    if (pruned > 0) deps.log.info({ pruned }, 'expired as-of entries pruned');
    return compacted;
  }
  const runOnce = (): Promise<number> => withRedisLock(deps.redis, lockKey, lockMs, compactFinished, 0);
  return { runOnce };
}

/** Runs the compaction every `intervalMs` until stopped. */
export function startLedgerCompaction(deps: LedgerCompactionDeps, intervalMs: number): { stop(): Promise<void> } {
  // The lock outlives a slow pass over a big drop; it is released as soon as the pass ends.
  const compaction = createLedgerCompaction(deps, Math.max(60_000, intervalMs * 2));
  return startPeriodic('ledger compaction', intervalMs, deps.log, () => compaction.runOnce());
}
