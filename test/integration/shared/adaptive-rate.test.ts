import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { createConcurClient, type ConcurClient } from '../../../src/shared/concur/index.ts';
import { DEFAULT_RETRY, withConcurRetries } from '../../../src/shared/concur/retry.ts';
import { loadConfig } from '../../../src/shared/config.ts';
import { createLogger } from '../../../src/shared/logger.ts';
import { AdaptiveRateLimiter } from '../../../src/shared/rate/adaptive-limiter.ts';
import {
  createRateLimiter,
  rateLimitKey,
  readRateLimits,
  type ConcurRateLimiter,
} from '../../../src/shared/rate/index.ts';
import { startSimulator, type StartedSimulator } from '../../helpers/simulator.ts';
import { deletePrefix, testRedis, uniquePrefix } from '../../helpers/redis.ts';

const connections: Redis[] = [];
const prefixes: string[] = [];
const cleanups: (() => Promise<void>)[] = [];
const admin = testRedis();

/** One more Redis connection: one "process" of the fleet. */
function connection(): Redis {
  const c = testRedis();
  connections.push(c);
  return c;
}

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  for (const p of prefixes.splice(0)) await deletePrefix(admin, p);
  await Promise.all(connections.splice(0).map((c) => c.quit()));
});
afterAll(() => admin.quit());

const ok = { status: 200, durationMs: 20 };

describe('adaptive limiter, shared through Redis', () => {
  it('decides once per window for the whole fleet, from every process’s counts, and cuts at once on a 429', async () => {
    const prefix = uniquePrefix('ar');
    prefixes.push(prefix);
    const key = rateLimitKey(prefix, 'identity');
    const controller = { startRps: 5, ceilingRps: 100, minRps: 0.5 };
    const a = new AdaptiveRateLimiter(connection(), key, { api: 'identity', controller, flushMs: 60_000 });
    const b = new AdaptiveRateLimiter(connection(), key, { api: 'identity', controller, flushMs: 60_000 });
    cleanups.push(
      () => a.stop(),
      () => b.stop(),
    );

    // The first call of an auto limiter puts the hash in auto mode at the start rate.
    await a.acquire();
    expect(await admin.hmget(key, 'mode', 'rate')).toEqual(['auto', '5']);
    for (let i = 0; i < 4; i += 1) a.observe(ok);
    await a.flush(false);
    // The first report sets the controller up (nothing to judge yet) and uses up its counts.
    expect(await admin.hmget(key, 'decision', 'rate', 'w:ok', 'decidingUntil')).toEqual(['start', '5', '0', null]);

    // Three calls from each process in the next second: together (not alone) they used the
    // rate (5/s); the one whose report finds the window over decides, from both processes' counts.
    const decidedBefore = Number(await admin.hget(key, 'decidedAt'));
    for (let i = 0; i < 3; i += 1) b.observe(ok);
    await b.flush(false);
    expect(await admin.hmget(key, 'decision', 'w:ok')).toEqual(['start', '3']);
    await new Promise((r) => setTimeout(r, 1_050));
    for (let i = 0; i < 3; i += 1) a.observe(ok);
    await a.flush(false);
    expect(await admin.hmget(key, 'decision', 'rate', 'w:ok', 'decidingUntil')).toEqual(['raise', '6.25', '0', null]);
    const decidedAt = Number(await admin.hget(key, 'decidedAt'));
    expect(decidedAt).toBeGreaterThan(decidedBefore);
    // Within the window: counted, not decided.
    b.observe(ok);
    await b.flush(false);
    expect(await admin.hmget(key, 'decidedAt', 'w:ok')).toEqual([String(decidedAt), '1']);

    // A 429 in another process: everyone pauses for Retry-After, and the rate is cut right away.
    await new Promise((r) => setTimeout(r, 150));
    b.observe({ status: 429, durationMs: 5 });
    expect(await b.block(1_000)).toBeGreaterThan(900);
    await b.flush(false);
    const [decision, rate, last429, blockedUntil] = await admin.hmget(
      key,
      'decision',
      'rate',
      'last429',
      'blockedUntil',
    );
    expect(decision).toBe('cut_429');
    // A tenth below what was refused: the rate in force, or what Concur accepted if that was less.
    const ctl = JSON.parse((await admin.hget(key, 'ctl'))!) as { refusedRps: number; acceptedRps: number };
    expect(ctl.refusedRps).toBe(Math.min(6.25, ctl.acceptedRps));
    expect(Number(rate)).toBeCloseTo(ctl.refusedRps * 0.9, 5);
    expect(Number(blockedUntil) - Number(last429)).toBeGreaterThanOrEqual(1_000);
    const view = (await readRateLimits(admin, prefix)).identity;
    expect(view).toMatchObject({ mode: 'auto', rps: Number(rate), last429At: Number(last429) });
    expect(view.blockedUntil).toBeGreaterThan(Date.now());
  });

  it('a fixed rate is shown as such, and never decided', async () => {
    const prefix = uniquePrefix('ar');
    prefixes.push(prefix);
    const limiter = createRateLimiter('ups', {
      redis: connection(),
      config: loadConfig({ QUEUE_PREFIX: prefix, UPS_MAX_RPS: '12' }),
    });
    await limiter.acquire();
    limiter.observe({ method: 'POST', path: '/profile/v4/Bulk', status: 200, durationMs: 10 });
    await limiter.stop();
    const views = await readRateLimits(admin, prefix);
    expect(views.ups).toEqual({ mode: 'fixed', rps: 12, last429At: undefined, blockedUntil: undefined });
    expect(views.identity).toEqual({ mode: undefined, rps: undefined, last429At: undefined, blockedUntil: undefined });
    expect(await admin.hget(rateLimitKey(prefix, 'ups'), 'ctl')).toBeNull();
  });
});

describe('adaptive limiter against the simulator’s real 429s', () => {
  let sim: StartedSimulator;
  afterEach(async () => sim?.close());

  it('two processes find a hidden limit: a 429 cuts the shared rate and pauses both for Retry-After', async () => {
    const hidden = 15;
    sim = await startSimulator({ knobs: { identityRps: hidden, burstSeconds: 1, latencyMs: 5 } });
    const prefix = uniquePrefix('ar');
    prefixes.push(prefix);
    const config = loadConfig({
      QUEUE_PREFIX: prefix,
      CONCUR_BASE_URL: sim.baseUrl,
      IDENTITY_MAX_RPS: 'auto',
      IDENTITY_RPS_CEILING: '60',
    });
    const lines: string[] = [];
    const log = createLogger({ level: 'info' }, { write: (l: string) => void lines.push(l) });
    const started: number[] = [];
    const throttledAt: number[] = [];
    const fleet: { limiter: ConcurRateLimiter; client: ConcurClient }[] = [];
    for (let p = 0; p < 2; p += 1) {
      const redis = connection();
      const limiter = createRateLimiter('identity', { redis, config, log });
      const client = createConcurClient({
        config,
        redis,
        log,
        gates: { identity: limiter },
        http: {
          observer: (e) => {
            limiter.observe(e);
            if (!e.path.includes('/profile/identity/')) return;
            const end = performance.now();
            started.push(end - e.durationMs);
            if (e.status === 429) throttledAt.push(end);
          },
        },
      });
      fleet.push({ limiter, client });
      cleanups.push(
        () => limiter.stop(),
        () => client.close(),
      );
    }

    // Four callers per process until the controller has cut after a 429 and run a while longer.
    let stop = false;
    const cut = (): boolean => lines.some((l) => l.includes('"decision":"cut_429"'));
    const callers = fleet.flatMap(({ limiter, client }) =>
      Array.from({ length: 4 }, async () => {
        while (!stop)
          await withConcurRetries(() => client.identity.findByUserName('nobody@example.com'), DEFAULT_RETRY, {
            block: (ms) => limiter.block(ms),
          });
      }),
    );
    const deadline = Date.now() + 45_000;
    while (!cut() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 3_000));
    stop = true;
    await Promise.all(callers);

    const search = 'POST /profile/identity/v4.1/Users/.search';
    expect(sim.sim.ctx.stats.count(search, 429)).toBeGreaterThan(0);
    expect(throttledAt.length).toBe(sim.sim.ctx.stats.count(search, 429));
    // The cut: logged with the rate it came from, and below it.
    const cutLine = JSON.parse(lines.find((l) => l.includes('"decision":"cut_429"'))!) as { rps: number; from: number };
    expect(cutLine.rps).toBeLessThan(cutLine.from);
    const view = (await readRateLimits(admin, prefix)).identity;
    expect(view.mode).toBe('auto');
    expect(view.rps).toBeLessThanOrEqual(60);
    expect(view.last429At).toBeGreaterThan(Date.now() - 60_000);
    // Retry-After (the simulator says 1 s): after a 429 nothing was sent by either process until
    // it passed, bar calls already on their way (a margin of 200 ms).
    for (const t of throttledAt) {
      const during = started.filter((s) => s > t + 200 && s < t + 800);
      expect(during).toEqual([]);
    }
  }, 90_000);
});
