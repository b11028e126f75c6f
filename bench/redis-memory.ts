// Redis memory: bytes per row while a drop is in flight (ingested, jobs queued, no worker yet) and
// after it completes, from INFO used_memory of a private redis-server; plus the peak while the
// workers run. After completion: compacted, then once the recent-write keys' window is over, and
// without the queues' retained jobs (bounded, not per row): what each further row keeps.
// Usage: npx tsx bench/redis-memory.ts [--quick] [--rows N]   (prints one JSON line)
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { existingUserBody } from '../src/demo/generate.ts';
import { SIM_DEFAULTS } from '../src/shared/config.ts';
import { emit, note, parseBenchArgs, round } from './lib/args.ts';
import { benchDrop, writeDrop } from './lib/drops.ts';
import { startBenchRedis } from './lib/redis-server.ts';
import { expireRecentWrites, queueKeyBytes, usageByFamily } from './lib/key-usage.ts';
import { NO_LIMITS_ENV, startBenchStack } from './lib/stack.ts';

const args = parseBenchArgs(process.argv.slice(2));
const rows = args.rows ?? (args.quick ? 1_000 : 20_000);
const env = { LEDGER_COMPACT_INTERVAL_MS: '0', ...NO_LIMITS_ENV };

const sum = (o: Record<string, number>): number => Object.values(o).reduce((a, b) => a + b, 0);

const redis = await startBenchRedis();
const dir = await mkdtemp(join(tmpdir(), 'provision-bench-mem-'));
try {
  const stack = await startBenchStack({ redisUrl: redis.url, env, workers: { identity: 0, extension: 0, status: 0 } });
  try {
    const drop = benchDrop(rows, 'demo');
    await stack.sim.createUsers(drop.existing.map((r) => existingUserBody(r, SIM_DEFAULTS.companyId)));
    const file = join(dir, 'drop.csv');
    await writeDrop(file, drop.records);
    const base = await redis.usedMemory();
    const baseScripts = await redis.scriptsMemory();
    note(`redis-memory: ingesting ${rows} rows with no worker running`);
    const ingest = await stack.ingest(file);
    const inFlight = (await redis.usedMemory()) - base;
    const inFlightKeys = await usageByFamily(redis.client, stack.prefix);
    note('redis-memory: starting the workers');
    let peak = inFlight;
    await stack.addWorkers('identity', 1);
    await stack.addWorkers('extension', 1);
    await stack.addWorkers('status', 1);
    await stack.waitComplete(ingest.dropId, {
      intervalMs: 200,
      onTick: async () => {
        peak = Math.max(peak, (await redis.usedMemory()) - base);
      },
    });
    // Workers gone, so their connections' buffers are not counted.
    await stack.stopWorkers();
    const completed = (await redis.usedMemory()) - base;
    const completedKeys = await usageByFamily(redis.client, stack.prefix);
    // What an identity worker does to a finished drop every LEDGER_COMPACT_INTERVAL_MS (off in
    // this run, so the state between completion and compaction is measured too).
    note('redis-memory: compacting the finished drop');
    const compacted = await stack.ledger.compactDrop(ingest.dropId);
    const afterWithRecentWrites = (await redis.usedMemory()) - base;
    const afterWithRecentWritesKeys = await usageByFamily(redis.client, stack.prefix);
    // The users written in the last CONFLICT_RESOLVE_MAX_MS keep a key each until it is over
    // (transient protection, not retained state): measured once they are gone.
    note("redis-memory: ending the recent-write keys' window");
    const recentWriteKeys = await expireRecentWrites(redis.client, stack.prefix);
    const after = (await redis.usedMemory()) - base;
    const afterKeys = await usageByFamily(redis.client, stack.prefix);
    // What does not grow with the rows, left out of what a row costs: BullMQ's completed jobs
    // (COMPLETED_JOBS_KEPT per queue) and event streams (~1,000 entries each), bounded whatever
    // the drop's size; the Lua scripts the processes loaded; Redis's per-command statistics.
    const fixed = {
      queuesRetained: await queueKeyBytes(redis.client, stack.prefix),
      luaScripts: (await redis.scriptsMemory()) - baseScripts,
      commandStats: await redis.releaseCommandStats(),
    };
    const marginal = after - fixed.queuesRetained - fixed.luaScripts - fixed.commandStats;
    const perRow = (b: number): number => round(b / ingest.rows);
    const result = {
      bench: 'redis-memory',
      rows: ingest.rows,
      invalid: ingest.invalid,
      inFlightBytesPerRow: perRow(inFlight),
      peakBytesPerRow: perRow(peak),
      afterBytesPerRow: perRow(after),
      // What each row keeps: `after` without what does not grow with the rows (the target's figure).
      afterMarginalBytesPerRow: perRow(marginal),
      // Right after the compaction, the recent-write keys still there.
      afterWithRecentWritesBytesPerRow: perRow(afterWithRecentWrites),
      recentWriteKeys,
      // Completed, before the compaction (at most LEDGER_COMPACT_INTERVAL_MS, 10 s by default).
      completedBytesPerRow: perRow(completed),
      compacted,
      // The keys alone (MEMORY USAGE): used_memory also moves with Lua caches and client buffers.
      inFlightKeyBytesPerRow: perRow(sum(inFlightKeys)),
      afterKeyBytesPerRow: perRow(sum(afterKeys)),
      bytes: { base, inFlight, peak, completed, afterWithRecentWrites, after, fixed, marginal },
      keys: {
        inFlight: inFlightKeys,
        completed: completedKeys,
        afterWithRecentWrites: afterWithRecentWritesKeys,
        after: afterKeys,
      },
      target: {
        inFlightBytesPerRowAtMost: 1024,
        afterBytesPerRowAtMost: 300,
        afterJudgedOn: 'afterMarginalBytesPerRow',
        met: inFlight / ingest.rows <= 1024 && marginal / ingest.rows <= 300,
      },
      settings: {
        drop: 'demo generator',
        env,
        note:
          'after = completed and compacted drop (rows in compressed pages), once the recent-write keys are gone ' +
          '(the bench ends their CONFLICT_RESOLVE_MAX_MS window early: a 1 ms TTL each, then 1 s for Redis to shrink its key tables); ' +
          'afterWithRecentWrites = the same before that; afterMarginal = after without bytes.fixed, what does not grow with the rows: ' +
          "the queues' keys (completed jobs kept, COMPLETED_JOBS_KEPT per queue, and event streams of ~1,000 entries), " +
          "the Lua scripts loaded since base and Redis 7's per-command latency histograms (freed by CONFIG RESETSTAT at the end)",
      },
      redis: redis.version,
    };
    note(
      `redis-memory: ${result.inFlightBytesPerRow} B/row in flight, ${result.peakBytesPerRow} peak, ${result.completedBytesPerRow} completed, ` +
        `${result.afterWithRecentWritesBytesPerRow} compacted, ${result.afterBytesPerRow} once the recent writes expired, ` +
        `${result.afterMarginalBytesPerRow} per row without the ${round(sum(fixed) / 1e6, 2)} MB that does not grow with the rows`,
    );
    emit(result);
  } finally {
    await stack.stop();
  }
} finally {
  await rm(dir, { recursive: true, force: true });
  await redis.stop();
}
