// Closeness to Concur's limit: the simulator limits Identity to R calls/s and UPS to its own rate,
// with 50 ± 20 ms latency; the pipeline's shared limiter is set to R. Reports identity calls/s ÷ R,
// the share of 429s, and wall time ÷ ideal (calls made ÷ R).
// Usage: npx tsx bench/rate-limit.ts [--quick] [--rows N] [--rps R]   (prints one JSON line)
import { emit, note, parseBenchArgs, round } from './lib/args.ts';
import { startBenchRedis } from './lib/redis-server.ts';
import { runDrop } from './lib/run-drop.ts';
import { countCalls, isIdentityRoute, isRoute, ROUTES } from './lib/sim.ts';
import { SHORT_TAIL_ENV, startBenchStack } from './lib/stack.ts';

const args = parseBenchArgs(process.argv.slice(2));
const rows = args.rows ?? (args.quick ? 1_000 : 10_000);
const rpsArg = process.argv.indexOf('--rps');
const R = rpsArg >= 0 ? Number(process.argv[rpsArg + 1]) : 200;
const UPS_R = 20;
// Our limit equals the simulator's: both are token buckets with one second of burst.
const ourRps = R;
// In-flight calls needed = R × latency (200/s × 50 ms = 10, more with jitter); 8 jobs at a time
// (the default) would cap a process at ~8 / 0.05 s = 160 calls/s, so this run allows 16.
const concurrency = 16;
const env = {
  IDENTITY_MAX_RPS: String(ourRps),
  IDENTITY_CONCURRENCY: String(concurrency),
  UPS_MAX_RPS: String(UPS_R),
  ...SHORT_TAIL_ENV,
};

// Set once the people who already exist are seeded (the seeding must not be throttled).
const knobs = { identityRps: R, upsRps: UPS_R, latencyMs: 30, jitterMs: 40, extensionDelayMs: 200 };

const redis = await startBenchRedis();
try {
  const stack = await startBenchStack({ redisUrl: redis.url, env });
  let run;
  try {
    note(`rate-limit: ${rows} rows, Identity limited to ${R}/s, our limiter ${ourRps}/s`);
    run = await runDrop(stack, rows, 'demo', { afterSeed: () => stack.sim.configure(knobs) });
  } finally {
    await stack.stop();
  }
  const identityCalls = countCalls(run.calls, isIdentityRoute);
  const throttled = countCalls(run.calls, isIdentityRoute, 429);
  const needed = identityCalls - throttled;
  const idealSeconds = needed / R;
  const achieved = needed / run.identitySeconds;
  const result = {
    bench: 'rate-limit',
    rows: run.rows,
    states: run.states,
    R,
    ourRps,
    identity: {
      calls: identityCalls,
      answered: needed,
      throttled429: throttled,
      share429: round(throttled / Math.max(identityCalls, 1), 4),
      callsPerSecond: round(achieved, 1),
      ofR: round(achieved / R, 3),
    },
    ups: {
      calls: countCalls(run.calls, (r) => r === ROUTES.bulk || r === ROUTES.status),
      throttled429:
        countCalls(run.calls, isRoute(ROUTES.bulk), 429) + countCalls(run.calls, isRoute(ROUTES.status), 429),
    },
    seconds: run.seconds,
    identitySeconds: run.identitySeconds,
    idealSeconds: round(idealSeconds, 2),
    identityWallOfIdeal: round(run.identitySeconds / idealSeconds, 3),
    dropWallOfIdeal: round(run.seconds / idealSeconds, 3),
    target: {
      ofRAtLeast: 0.95,
      share429AtMost: 0.01,
      wallOfIdealAtMost: 1.1,
      met: achieved / R >= 0.95 && throttled / Math.max(identityCalls, 1) <= 0.01 && run.seconds / idealSeconds <= 1.1,
    },
    settings: {
      env,
      knobs,
      latency: '50 ± 20 ms (30 fixed + uniform 0..40)',
      workers: { identity: 1, extension: 1, status: 1 },
    },
    redis: redis.version,
  };
  note(
    `rate-limit: ${result.identity.callsPerSecond} identity calls/s (${result.identity.ofR} of R), 429 share ${result.identity.share429}, wall/ideal ${result.dropWallOfIdeal}`,
  );
  emit(result);
} finally {
  await redis.stop();
}
