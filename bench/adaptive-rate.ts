// The adaptive rate (IDENTITY_MAX_RPS=auto) against a limit it is not told: the simulator allows
// 40 Identity calls/s, then 20/s from mid-drop on; 1 and 4 identity processes, each run on a fresh
// simulator and key prefix. Sampled every second: the calls Concur accepted and refused (429), and
// the rate the shared controller set. Same-run baseline: a limiter pinned at 40/s (the right
// guess, until the limit halves). Identity-only rows, so nothing else competes for the cores.
// Usage: npx tsx bench/adaptive-rate.ts [--quick] [--processes 1,2,4]   (prints one JSON line)
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { emit, note, parseBenchArgs, round } from './lib/args.ts';
import { benchDrop, writeDrop } from './lib/drops.ts';
import { startBenchRedis } from './lib/redis-server.ts';
import { countCalls, isIdentityRoute } from './lib/sim.ts';
import { startBenchStack } from './lib/stack.ts';

const args = parseBenchArgs(process.argv.slice(2));
const argv = process.argv.slice(2);
const pi = argv.indexOf('--processes');
const fleet = pi >= 0 ? (argv[pi + 1] ?? '').split(',').map(Number) : args.quick ? [1] : [1, 4];
const LIMIT = 40;
const HALVED = 20;
const changeAtS = args.quick ? 60 : 180;
const afterS = args.quick ? 40 : 90;
const baselineChangeAtS = args.quick ? 20 : 60;
const baselineAfterS = args.quick ? 15 : 30;
// Latency as in the rate-limit benchmark; enough jobs per process to ask for far more than 40/s.
const knobs = { latencyMs: 30, jitterMs: 40, burstSeconds: 1 };
const concurrency = 8;

interface Sample {
  /** Seconds since the first Identity call. */
  t: number;
  /** Cumulative Identity calls answered (not 429) and refused (429). */
  accepted: number;
  throttled: number;
  /** The limiter's rate in force (from its Redis hash). */
  rps: number;
}

interface RunResult {
  samples: Sample[];
  calls: number;
  throttled: number;
}

/** One drop through `processes` identity workers; the simulator's limit halves at `changeAt` s. */
async function run(
  redisUrl: string,
  processes: number,
  setting: string,
  changeAt: number,
  after: number,
): Promise<RunResult> {
  const env = {
    IDENTITY_MAX_RPS: setting,
    IDENTITY_CONCURRENCY: String(concurrency),
    SIM_LATENCY_MS: String(knobs.latencyMs),
    SIM_JITTER_MS: String(knobs.jitterMs),
    SIM_IDENTITY_RPS: String(LIMIT),
  };
  const stack = await startBenchStack({
    redisUrl,
    env,
    workers: { identity: processes, extension: 0, status: 0 },
  });
  const dir = await mkdtemp(join(tmpdir(), 'provision-bench-adaptive-'));
  try {
    // More rows than the run can take, so demand never runs out before the end.
    const rows = Math.ceil((LIMIT * changeAt + HALVED * after) * 1.3);
    const file = join(dir, `adaptive-${processes}.csv`);
    await writeDrop(file, benchDrop(rows, 'identityOnly', processes, processes).records);
    const key = `${stack.prefix}:ratelimit:identity`;
    const before = await stack.sim.stats();
    const identity = (s: Awaited<ReturnType<typeof stack.sim.stats>>, status?: number): number =>
      countCalls(s, isIdentityRoute, status) - countCalls(before, isIdentityRoute, status);
    const ingest = stack.ingest(file);
    const samples: Sample[] = [];
    let t0: number | undefined;
    let changed = false;
    for (;;) {
      const [stats, rate] = await Promise.all([stack.sim.stats(), stack.redis.hget(key, 'rate')]);
      const now = performance.now();
      const throttled = identity(stats, 429);
      const accepted = identity(stats) - throttled;
      if (t0 === undefined && accepted + throttled > 0) t0 = now;
      if (t0 !== undefined) {
        const t = (now - t0) / 1000;
        samples.push({ t, accepted, throttled, rps: Number(rate ?? 0) });
        if (!changed && t >= changeAt) {
          await stack.sim.configure({ identityRps: HALVED });
          changed = true;
        }
        if (t >= changeAt + after) break;
      }
      await new Promise((r) => setTimeout(r, 1000 - ((performance.now() - now) % 1000)));
    }
    await ingest;
    const last = samples.at(-1)!;
    return { samples, calls: last.accepted + last.throttled, throttled: last.throttled };
  } finally {
    await stack.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Accepted calls/s and the 429 share between the samples nearest to `from` and `to` seconds. */
function between(samples: Sample[], from: number, to: number): { rps: number; share429: number } {
  const a = samples.find((s) => s.t >= from) ?? samples[0]!;
  const b = [...samples].reverse().find((s) => s.t <= to) ?? samples.at(-1)!;
  const accepted = b.accepted - a.accepted;
  const throttled = b.throttled - a.throttled;
  return {
    rps: b.t > a.t ? accepted / (b.t - a.t) : 0,
    share429: throttled / Math.max(1, accepted + throttled),
  };
}

/** The first time (s, from `from`) a `width`-second window of accepted calls reaches `rps`. */
function reaches(samples: Sample[], from: number, rps: number, width = 5): number | null {
  for (const s of samples) {
    if (s.t < from + width) continue;
    if (between(samples, s.t - width, s.t).rps >= rps) return round(s.t - from, 1);
  }
  return null;
}

/** The lowest accepted rate of any `width`-second window within [from, to]. */
function lowest(samples: Sample[], from: number, to: number, width = 10): number {
  let min = Infinity;
  for (const s of samples)
    if (s.t >= from + width && s.t <= to) min = Math.min(min, between(samples, s.t - width, s.t).rps);
  return min;
}

function analyse(r: RunResult, changeAt: number, after: number) {
  const { samples } = r;
  const reachS = reaches(samples, 0, 0.9 * LIMIT);
  // The targets' windows: from 120 s on (a quick run changes the limit sooner: from half-way).
  const holdFrom = Math.min(120, changeAt / 2);
  const settleFrom = changeAt + Math.min(60, after / 2);
  const hold = between(samples, holdFrom, changeAt);
  const minHold = lowest(samples, holdFrom, changeAt);
  const attemptsUnder = samples.find(
    (s) =>
      s.t > changeAt + 3 &&
      (() => {
        const a = [...samples].reverse().find((x) => x.t <= s.t - 3)!;
        return (s.accepted + s.throttled - a.accepted - a.throttled) / (s.t - a.t) <= HALVED;
      })(),
  );
  const rateUnder = samples.find((s) => s.t >= changeAt && s.rps < HALVED);
  const back = reaches(samples, changeAt, 0.85 * HALVED);
  const settled = between(samples, settleFrom, changeAt + after);
  return {
    calls: r.calls,
    throttled429: r.throttled,
    reachS,
    hold: {
      rps: round(hold.rps, 1),
      ofLimit: round(hold.rps / LIMIT, 3),
      lowest10sRps: round(minHold, 1),
      lowest10sOfLimit: round(minHold / LIMIT, 3),
    },
    share429After120s: round(between(samples, holdFrom, changeAt + after).share429, 4),
    halved: {
      rateUnderS: rateUnder ? round(rateUnder.t - changeAt, 1) : null,
      callsUnderS: attemptsUnder ? round(attemptsUnder.t - changeAt, 1) : null,
      reach085S: back,
      afterRps: round(settled.rps, 1),
      afterOfLimit: round(settled.rps / HALVED, 3),
    },
    // The controller's rate and the accepted calls/s, every 10 s, for the record.
    series: samples
      .filter((_, i) => i % 10 === 0)
      .map((s) => ({ t: round(s.t), rps: round(s.rps, 1), accepted: round(between(samples, s.t - 10, s.t).rps, 1) })),
  };
}

const redis = await startBenchRedis();
try {
  const auto: (ReturnType<typeof analyse> & { processes: number; met: boolean })[] = [];
  for (const processes of fleet) {
    note(`adaptive-rate: auto, ${processes} identity process(es), limit ${LIMIT}/s then ${HALVED}/s at ${changeAtS} s`);
    const a = analyse(await run(redis.url, processes, 'auto', changeAtS, afterS), changeAtS, afterS);
    const met =
      a.reachS !== null &&
      a.reachS <= 120 &&
      a.hold.ofLimit >= 0.9 &&
      a.share429After120s <= 0.01 &&
      a.halved.rateUnderS !== null &&
      a.halved.rateUnderS <= 10 &&
      a.halved.reach085S !== null &&
      a.halved.reach085S <= 60;
    note(
      `adaptive-rate: ${processes}p reach ${a.reachS} s, hold ${a.hold.ofLimit} × (lowest 10 s ${a.hold.lowest10sOfLimit} ×), 429 ${a.share429After120s}, under ${a.halved.rateUnderS} s, 0.85 × in ${a.halved.reach085S} s`,
    );
    auto.push({ processes, ...a, met });
  }
  note(`adaptive-rate: baseline, pinned at ${LIMIT}/s, limit halved at ${baselineChangeAtS} s`);
  const pinned = await run(redis.url, 1, String(LIMIT), baselineChangeAtS, baselineAfterS);
  const pinnedBefore = between(pinned.samples, 10, baselineChangeAtS);
  const pinnedAfter = between(pinned.samples, baselineChangeAtS, baselineChangeAtS + baselineAfterS);
  emit({
    bench: 'adaptive-rate',
    limit: { before: LIMIT, after: HALVED, changeAtS, afterS },
    runs: auto,
    baseline: {
      setting: `IDENTITY_MAX_RPS=${LIMIT}`,
      rps: round(pinnedBefore.rps, 1),
      ofLimit: round(pinnedBefore.rps / LIMIT, 3),
      afterHalvingShare429: round(pinnedAfter.share429, 3),
      afterHalvingRps: round(pinnedAfter.rps, 1),
    },
    target: {
      reachWithinS: 120,
      holdOfLimitAtLeast: 0.9,
      share429AtMost: 0.01,
      underWithinS: 10,
      reach085WithinS: 60,
      met: auto.every((a) => a.met),
    },
    settings: { knobs, concurrency, drop: 'identityOnly (every row new, no references)' },
    redis: redis.version,
  });
} finally {
  await redis.stop();
}
