import type { Ledger } from '../../shared/ledger/ledger.ts';
import type { Logger } from '../../shared/logger.ts';
import type { RedisConnection } from '../../shared/redis.ts';

export interface LedgerCompactionDeps {
  ledger: Ledger;
  redis: RedisConnection;
  prefix: string;
  log: Logger;
}

/** Drops looked at per pass: the most recent ones (older ones were compacted long ago). */
const RECENT_DROPS = 200;

/**
 * Compacts finished drops (see Ledger.compactDrop) so a completed migration's ledger costs a
 * fraction of its in-flight size. One process at a time (a Redis lock); returns the drops compacted.
 */
export function createLedgerCompaction(deps: LedgerCompactionDeps, lockMs: number) {
  const lockKey = `${deps.prefix}:ledger:compact-lock`;
  async function runOnce(): Promise<number> {
    if ((await deps.redis.set(lockKey, String(process.pid), 'PX', lockMs, 'NX')) !== 'OK') return 0;
    try {
      let compacted = 0;
      for (const dropId of await deps.ledger.listDrops(RECENT_DROPS)) {
        const t0 = Date.now();
        const { rows, pages } = await deps.ledger.compactDrop(dropId);
        if (rows === 0) continue;
        compacted += 1;
        deps.log.info({ dropId, rows, pages, ms: Date.now() - t0 }, 'finished drop compacted');
      }
      return compacted;
    } finally {
      await deps.redis.del(lockKey);
    }
  }
  return { runOnce };
}

/** Runs the compaction every `intervalMs` (one pass at a time) until stopped; errors are logged. */
export function startLedgerCompaction(deps: LedgerCompactionDeps, intervalMs: number): { stop(): Promise<void> } {
  // The lock outlives a slow pass over a big drop; it is released as soon as the pass ends.
  const compaction = createLedgerCompaction(deps, Math.max(60_000, intervalMs * 2));
  let running: Promise<unknown> | undefined;
  const timer = setInterval(() => {
    if (running) return;
    running = compaction
      .runOnce()
      .catch((err: unknown) => deps.log.warn({ err }, 'ledger compaction failed'))
      .finally(() => {
        running = undefined;
      });
  }, intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
