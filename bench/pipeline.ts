// Pipeline overhead: rows/s end to end (identity + extensions + status) for a demo-shaped drop
// against a simulator with no latency and no limits, one worker process per role; beside a raw
// BullMQ baseline (one no-op job per row through one queue) on the same private Redis.
// Usage: npx tsx bench/pipeline.ts [--quick] [--rows N]   (prints one JSON line)
import { emit, note, parseBenchArgs, round } from './lib/args.ts';
import { rawQueueThroughput } from './lib/baseline.ts';
import { startBenchRedis } from './lib/redis-server.ts';
import { runDrop } from './lib/run-drop.ts';
import { countCalls, isIdentityRoute, isRoute, ROUTES } from './lib/sim.ts';
import { startBenchStack } from './lib/stack.ts';

const args = parseBenchArgs(process.argv.slice(2));
const rows = args.rows ?? (args.quick ? 2_000 : 20_000);
// No limits on either side; short status/linger delays so the tail is not just waiting.
const env = {
  IDENTITY_MAX_RPS: '0',
  UPS_MAX_RPS: '0',
  SIM_EXTENSION_DELAY_MS: '0',
  EXTENSION_LINGER_MS: '200',
  STATUS_FIRST_DELAY_MS: '500',
  STATUS_MAX_DELAY_MS: '2000',
};
const baselineConcurrency = 8;

const redis = await startBenchRedis();
try {
  note(`pipeline: raw BullMQ baseline, ${rows} no-op jobs`);
  const before = await rawQueueThroughput(redis.url, rows, baselineConcurrency);
  note(`pipeline: ${before.jobsPerSecond} jobs/s; now the pipeline on ${rows} rows`);
  const stack = await startBenchStack({ redisUrl: redis.url, env });
  let run;
  try {
    run = await runDrop(stack, rows, 'demo');
  } finally {
    await stack.stop();
  }
  const after = await rawQueueThroughput(redis.url, rows, baselineConcurrency);
  const baselineJobsPerSecond = round((before.jobsPerSecond + after.jobsPerSecond) / 2);
  const rowsPerSecond = round(run.rows / run.seconds);
  const ratio = round(rowsPerSecond / baselineJobsPerSecond, 3);
  note(`pipeline: ${rowsPerSecond} rows/s vs ${baselineJobsPerSecond} jobs/s (ratio ${ratio})`);
  emit({
    bench: 'pipeline',
    rows: run.rows,
    states: run.states,
    seconds: run.seconds,
    ingestSeconds: run.ingestSeconds,
    identitySeconds: run.identitySeconds,
    rowsPerSecond,
    calls: {
      identity: countCalls(run.calls, isIdentityRoute),
      bulk: countCalls(run.calls, isRoute(ROUTES.bulk)),
      status: countCalls(run.calls, isRoute(ROUTES.status)),
    },
    baseline: { before, after, jobsPerSecond: baselineJobsPerSecond },
    ratio,
    target: { ratioAtLeast: 0.5, met: ratio >= 0.5 },
    settings: {
      workers: { identity: 1, extension: 1, status: 1 },
      env,
      baselineConcurrency,
      drop: 'demo generator (org tree, 2.5% bad rows, 1 in 12 existing)',
    },
    redis: redis.version,
  });
} finally {
  await redis.stop();
}
