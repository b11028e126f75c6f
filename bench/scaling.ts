// Scaling: rows/s with 1, 2 and 4 identity worker processes against a latency-bound simulator
// (a fixed delay per call, no rate limit), identity-only rows (no extensions).
// Usage: npx tsx bench/scaling.ts [--quick] [--rows N]   (prints one JSON line)
import { availableParallelism } from 'node:os';
import { emit, note, parseBenchArgs, round } from './lib/args.ts';
import { startBenchRedis } from './lib/redis-server.ts';
import { runDrop } from './lib/run-drop.ts';
import { countCalls, isIdentityRoute } from './lib/sim.ts';
import { startBenchStack } from './lib/stack.ts';

const args = parseBenchArgs(process.argv.slice(2));
const latencyMs = args.quick ? 25 : 100;
const concurrency = args.quick ? 1 : 4;
// 50 rows per job: the job count is a multiple of 4 processes × concurrency, so no wave runs half empty
// (full: 48 jobs over 16 slots; quick: 4 jobs over 4 slots).
const rows = args.rows ?? (args.quick ? 200 : 2_400);
const env = { IDENTITY_MAX_RPS: '0', IDENTITY_CONCURRENCY: String(concurrency), SIM_LATENCY_MS: String(latencyMs) };

const redis = await startBenchRedis();
try {
  const stack = await startBenchStack({ redisUrl: redis.url, env, workers: { identity: 0, extension: 1, status: 1 } });
  const runs: {
    processes: number;
    rows: number;
    seconds: number;
    rowsPerSecond: number;
    identityCalls: number;
    speedup: number;
    efficiency: number;
  }[] = [];
  try {
    let processes = 0;
    for (const [i, target] of [1, 2, 4].entries()) {
      await stack.addWorkers('identity', target - processes);
      processes = target;
      note(`scaling: ${rows} rows with ${processes} identity process(es)`);
      const run = await runDrop(stack, rows, 'identityOnly', { seed: i + 1, tag: i + 1 });
      const rowsPerSecond = run.rows / run.seconds;
      const one = runs[0]?.rowsPerSecond ?? rowsPerSecond;
      runs.push({
        processes,
        rows: run.rows,
        seconds: run.seconds,
        rowsPerSecond: round(rowsPerSecond, 1),
        identityCalls: countCalls(run.calls, isIdentityRoute),
        speedup: round(rowsPerSecond / one, 2),
        efficiency: round(rowsPerSecond / one / processes, 2),
      });
    }
  } finally {
    await stack.stop();
  }
  const four = runs.at(-1)!;
  const result = {
    bench: 'scaling',
    latencyMs,
    runs,
    speedup4: four.speedup,
    target: { speedup4AtLeast: 3.5, met: four.speedup >= 3.5 },
    settings: {
      env,
      cores: availableParallelism(),
      rowsPerJob: 50,
      note: 'identity-only rows; each process runs IDENTITY_CONCURRENCY jobs, each job its rows one call at a time',
    },
    redis: redis.version,
  };
  note(`scaling: ${runs.map((r) => `${r.processes}p ${r.rowsPerSecond} rows/s`).join(', ')}`);
  emit(result);
} finally {
  await redis.stop();
}
