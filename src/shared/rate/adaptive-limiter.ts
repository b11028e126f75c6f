import type { HttpCallEvent } from '../concur/http.ts';
import type { Logger } from '../logger.ts';
import { SharedRateLimiter } from '../rate-limiter.ts';
import type { RedisConnection } from '../redis.ts';
import {
  decideRate,
  initialRateState,
  type RateControllerOptions,
  type RateState,
  type RateWindow,
} from './controller.ts';

/*
 * The adaptive limiter's shared half (docs/architecture.md#finding-concurs-rate-limit). Every
 * process counts its calls in memory and adds them to window counters in the limiter's hash every
 * FLUSH_MS, and at once after a 429. The flush that finds a decision due (a window has passed, or
 * a 429 came) takes a short lock in the same script, decides with the pure controller on Redis's
 * time, and commits the new rate and state, subtracting the counts it used (counts added meanwhile
 * stay for the next window). The token bucket reads the rate from the same hash.
 *
 * Hash fields besides the bucket's: rate, mode, last429 (rate-limiter.ts); ctl (the controller
 * state, JSON), decidedAt, decidingUntil (the lock), w:ok w:429 w:fail w:lat w:latn (the window).
 */

/**
 * KEYS: limiter hash. ARGV: answered, throttled, failed, latency ms sum, latency count, window ms,
 * urgent (1 after a 429), lock ms. Returns {0} when no decision is due (or another process holds
 * the lock), else {1, now, ctl, ok, 429, fail, lat, latn, last429, blockedUntil}.
 */
const REPORT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local k = KEYS[1]
if tonumber(ARGV[1]) > 0 then redis.call('HINCRBY', k, 'w:ok', ARGV[1]) end
if tonumber(ARGV[2]) > 0 then redis.call('HINCRBY', k, 'w:429', ARGV[2]) end
if tonumber(ARGV[3]) > 0 then redis.call('HINCRBY', k, 'w:fail', ARGV[3]) end
if tonumber(ARGV[5]) > 0 then
  redis.call('HINCRBYFLOAT', k, 'w:lat', ARGV[4])
  redis.call('HINCRBY', k, 'w:latn', ARGV[5])
end
redis.call('PEXPIRE', k, 3600000)
if redis.call('HGET', k, 'mode') ~= 'auto' then return {0} end
local since = now - tonumber(redis.call('HGET', k, 'decidedAt') or '0')
local lock = tonumber(redis.call('HGET', k, 'decidingUntil') or '0')
if lock > now or not (since >= tonumber(ARGV[6]) or (ARGV[7] == '1' and since >= 100)) then return {0} end
redis.call('HSET', k, 'decidingUntil', tostring(now + tonumber(ARGV[8])))
local f = redis.call('HMGET', k, 'ctl', 'w:ok', 'w:429', 'w:fail', 'w:lat', 'w:latn', 'last429', 'blockedUntil')
return {1, tostring(now), f[1] or '', f[2] or '0', f[3] or '0', f[4] or '0', f[5] or '0', f[6] or '0', f[7] or '0', f[8] or '0'}
`;

/**
 * KEYS: limiter hash. ARGV: rate, ctl JSON, now, then the window counts the decision used (they
 * are subtracted), and the decision's name. Releases the lock.
 */
const COMMIT = `
local k = KEYS[1]
redis.call('HSET', k, 'rate', ARGV[1], 'ctl', ARGV[2], 'decidedAt', ARGV[3], 'decision', ARGV[9])
if tonumber(ARGV[4]) > 0 then redis.call('HINCRBY', k, 'w:ok', -tonumber(ARGV[4])) end
if tonumber(ARGV[5]) > 0 then redis.call('HINCRBY', k, 'w:429', -tonumber(ARGV[5])) end
if tonumber(ARGV[6]) > 0 then redis.call('HINCRBY', k, 'w:fail', -tonumber(ARGV[6])) end
if tonumber(ARGV[8]) > 0 then
  redis.call('HINCRBYFLOAT', k, 'w:lat', -tonumber(ARGV[7]))
  redis.call('HINCRBY', k, 'w:latn', -tonumber(ARGV[8]))
end
redis.call('HDEL', k, 'decidingUntil')
return 1
`;

export interface AdaptiveLimiterOptions {
  /** Which API family (for logs). */
  api: string;
  controller: RateControllerOptions;
  /** How often a decision is due. Default 1000 ms. */
  windowMs?: number;
  /** How often each process reports its counts. Default 250 ms. */
  flushMs?: number;
  /** Bucket capacity in seconds of the current rate. Default 0.25 (a short burst keeps a probe gentle). */
  burstSeconds?: number;
  log?: Logger;
}

interface Counts {
  answered: number;
  throttled: number;
  failed: number;
  latencyMsSum: number;
  latencyCount: number;
}

const zero = (): Counts => ({ answered: 0, throttled: 0, failed: 0, latencyMsSum: 0, latencyCount: 0 });

type Scripts = {
  provRateReport(k: string, ...args: (string | number)[]): Promise<(string | number)[]>;
  provRateCommit(k: string, ...args: (string | number)[]): Promise<number>;
};

/** A shared limiter whose rate the fleet finds and follows (IDENTITY_MAX_RPS=auto, UPS_MAX_RPS=auto). */
export class AdaptiveRateLimiter {
  private readonly bucket: SharedRateLimiter;
  private readonly windowMs: number;
  private readonly lockMs: number;
  private counts = zero();
  private flushing: Promise<void> = Promise.resolve();
  private readonly timer: NodeJS.Timeout;
  private stopped: Promise<void> | undefined;

  constructor(
    private readonly redis: RedisConnection,
    private readonly key: string,
    private readonly options: AdaptiveLimiterOptions,
  ) {
    this.windowMs = options.windowMs ?? 1_000;
    this.lockMs = 2_000;
    this.bucket = new SharedRateLimiter(redis, key, {
      rps: 'auto',
      startRps: Math.min(options.controller.startRps, options.controller.ceilingRps),
      burstSeconds: options.burstSeconds ?? 0.25,
    });
    const r = redis as unknown as Record<string, unknown>;
    if (typeof r.provRateReport !== 'function') redis.defineCommand('provRateReport', { numberOfKeys: 1, lua: REPORT });
    if (typeof r.provRateCommit !== 'function') redis.defineCommand('provRateCommit', { numberOfKeys: 1, lua: COMMIT });
    this.timer = setInterval(() => void this.flush(false), options.flushMs ?? 250);
    this.timer.unref();
  }

  acquire(signal?: AbortSignal): Promise<void> {
    return this.bucket.acquire(signal);
  }

  /** Pauses every process for Retry-After, and has the controller cut the rate now. */
  async block(ms: number): Promise<number> {
    const inForce = await this.bucket.block(ms);
    void this.flush(true);
    return inForce;
  }

  /** One finished call of this limiter's family (fed from the HTTP observer; synchronous and cheap). */
  observe(event: Pick<HttpCallEvent, 'status' | 'errorCode' | 'durationMs'>): void {
    const c = this.counts;
    const status = event.status;
    if (status === 429) c.throttled += 1;
    else if (status === undefined || status === 408 || status >= 500) c.failed += 1;
    else {
      c.answered += 1;
      c.latencyMsSum += event.durationMs;
      c.latencyCount += 1;
    }
  }

  /** Reports what this process saw; decides when a decision is due. Serialised per process. */
  flush(urgent: boolean): Promise<void> {
    this.flushing = this.flushing.then(() => this.flushOnce(urgent));
    return this.flushing;
  }

  private async flushOnce(urgent: boolean): Promise<void> {
    const c = this.counts;
    if (!urgent && c.answered + c.throttled + c.failed === 0) return;
    this.counts = zero();
    const scripts = this.redis as unknown as Scripts;
    let reply: (string | number)[];
    try {
      reply = await scripts.provRateReport(
        this.key,
        c.answered,
        c.throttled,
        c.failed,
        c.latencyMsSum,
        c.latencyCount,
        this.windowMs,
        urgent ? 1 : 0,
        this.lockMs,
      );
    } catch (err) {
      // Counted again with the next flush.
      this.merge(c);
      this.options.log?.debug({ err }, 'rate report failed; will retry');
      return;
    }
    if (Number(reply[0]) !== 1) return;
    const [now, ctl, ok, throttled, failed, lat, latn, last429, blockedUntil] = reply.slice(1).map(String) as [
      string,
      string,
      string,
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    const t = Number(now);
    const window: RateWindow = {
      answered: Number(ok),
      throttled: Number(throttled),
      failed: Number(failed),
      latencyMsSum: Number(lat),
      latencyCount: Number(latn),
      last429At: Number(last429),
      blockedUntil: Number(blockedUntil),
    };
    // The first report sets the controller up; a 429 of the last moments is judged at once (an
    // older one, from before the limiter was last set up, belongs to nobody).
    const previous = parseState(ctl);
    const base = previous ?? { ...initialRateState(this.options.controller, t), episodeEnd: t - 2 * this.windowMs };
    const { state, decision } =
      previous || window.last429At > base.episodeEnd
        ? decideRate(base, window, t, this.options.controller)
        : { state: base, decision: 'start' };
    try {
      await scripts.provRateCommit(
        this.key,
        String(state.rps),
        JSON.stringify(state),
        now,
        ok,
        throttled,
        failed,
        lat,
        latn,
        decision,
      );
    } catch (err) {
      // The lock expires on its own; the next due flush decides again.
      this.options.log?.debug({ err }, 'rate decision not stored');
      return;
    }
    if (decision === 'cut_429' || decision === 'cut_latency') {
      this.options.log?.info(
        { api: this.options.api, rps: round(state.rps), from: round(base.rps), decision },
        decision === 'cut_429' ? 'Concur answered 429: rate cut' : 'Concur latency grew: rate cut',
      );
    } else if (decision === 'raise') {
      this.options.log?.debug({ api: this.options.api, rps: round(state.rps) }, 'rate raised');
    }
  }

  private merge(c: Counts): void {
    this.counts.answered += c.answered;
    this.counts.throttled += c.throttled;
    this.counts.failed += c.failed;
    this.counts.latencyMsSum += c.latencyMsSum;
    this.counts.latencyCount += c.latencyCount;
  }

  /** Stops the timer and reports what is left (a shutdown step). Idempotent. */
  stop(): Promise<void> {
    clearInterval(this.timer);
    this.stopped ??= this.flush(false);
    return this.stopped;
  }
}

const round = (n: number): number => Math.round(n * 10) / 10;

/** The stored controller state, or undefined when there is none (or it is unreadable). */
function parseState(ctl: string): RateState | undefined {
  if (ctl === '') return undefined;
  try {
    const s = JSON.parse(ctl) as Partial<RateState>;
    return typeof s.rps === 'number' && typeof s.decidedAt === 'number' ? (s as RateState) : undefined;
  } catch {
    return undefined;
  }
}
