import type { RedisConnection } from './redis.ts';

/**
 * A token bucket in Redis shared by every process of a role, plus a "blocked until" mark set
 * when Concur answers 429, so one throttled call pauses all workers for Retry-After.
 * Time comes from Redis (TIME), so processes with skewed clocks agree.
 *
 * The hash also tells readers (/metrics, the drop page, `provision status`) the rate in force
 * (`rate`, `mode` fixed or auto) and when Concur last answered 429 (`last429`). In auto mode the
 * rate is the adaptive controller's (rate/adaptive-limiter.ts), kept in the same hash.
 *
 * KEYS: bucket hash. ARGV: rps (0 = unlimited, -1 = auto), burst (auto: seconds of the rate),
 * start rps (auto: the rate until the controller has decided one).
 * Returns 0 when a token was taken, else the ms to wait before trying again.
 */
const ACQUIRE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local rps, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
if rps < 0 then
  if redis.call('HGET', KEYS[1], 'mode') ~= 'auto' then
    redis.call('HSET', KEYS[1], 'mode', 'auto', 'rate', ARGV[3])
    redis.call('HDEL', KEYS[1], 'ctl', 'decidedAt')
  end
  rps = tonumber(redis.call('HGET', KEYS[1], 'rate')) or tonumber(ARGV[3])
  burst = math.max(1, rps * burst)
elseif redis.call('HGET', KEYS[1], 'rate') ~= ARGV[1] or redis.call('HGET', KEYS[1], 'mode') ~= 'fixed' then
  redis.call('HSET', KEYS[1], 'mode', 'fixed', 'rate', ARGV[1])
  redis.call('PEXPIRE', KEYS[1], 3600000)
end
local blocked = tonumber(redis.call('HGET', KEYS[1], 'blockedUntil') or '0')
if blocked > now then return blocked - now end
if rps <= 0 then return 0 end
local tokens = tonumber(redis.call('HGET', KEYS[1], 'tokens') or tostring(burst))
local ts = tonumber(redis.call('HGET', KEYS[1], 'ts') or tostring(now))
tokens = math.min(burst, tokens + (now - ts) * rps / 1000)
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = math.ceil((1 - tokens) * 1000 / rps)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], 3600000)
return wait
`;

/**
 * KEYS: bucket hash. ARGV: ms. Extends the block; never shortens one already set. Called for 429s
 * only, so it also records when the last one came.
 */
const BLOCK = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local untilMs = now + tonumber(ARGV[1])
local cur = tonumber(redis.call('HGET', KEYS[1], 'blockedUntil') or '0')
if untilMs > cur then redis.call('HSET', KEYS[1], 'blockedUntil', tostring(untilMs)) end
redis.call('HSET', KEYS[1], 'last429', tostring(now))
redis.call('PEXPIRE', KEYS[1], 3600000)
return math.max(untilMs, cur) - now
`;

export interface RateLimiterOptions {
  /**
   * Requests per second across all processes; 0 = unlimited (429 blocks still apply); `auto` = the
   * rate the adaptive controller keeps in the hash.
   */
  rps: number | 'auto';
  /** Bucket capacity; default one second of rate (at least 1). Auto: `burstSeconds` of the rate. */
  burst?: number;
  /** Auto: bucket capacity as seconds of the current rate. Default 0.25. */
  burstSeconds?: number;
  /** Auto: the rate before the controller has decided one. Default 5. */
  startRps?: number;
}

export class SharedRateLimiter {
  private readonly redis: RedisConnection;
  private readonly key: string;
  private readonly rps: number;
  private readonly burst: number;
  private readonly startRps: number;

  constructor(redis: RedisConnection, key: string, options: RateLimiterOptions) {
    this.redis = redis;
    this.key = key;
    this.rps = options.rps === 'auto' ? -1 : options.rps;
    this.burst = options.rps === 'auto' ? (options.burstSeconds ?? 0.25) : (options.burst ?? Math.max(1, options.rps));
    this.startRps = options.startRps ?? 5;
    const r = redis as unknown as Record<string, unknown>;
    if (typeof r.provRateAcquire !== 'function')
      redis.defineCommand('provRateAcquire', { numberOfKeys: 1, lua: ACQUIRE });
    if (typeof r.provRateBlock !== 'function') redis.defineCommand('provRateBlock', { numberOfKeys: 1, lua: BLOCK });
  }

  /** Waits until a call may go out (a token is taken and no 429 block is in force). */
  async acquire(signal?: AbortSignal): Promise<void> {
    for (;;) {
      signal?.throwIfAborted();
      const wait = Number(
        await (
          this.redis as unknown as {
            provRateAcquire(k: string, rps: number, burst: number, start: number): Promise<number>;
          }
        ).provRateAcquire(this.key, this.rps, this.burst, this.startRps),
      );
      if (wait <= 0) return;
      await sleep(wait, signal);
    }
  }

  /** Blocks every process's calls for `ms` (Concur's Retry-After). Returns the ms in force. */
  async block(ms: number): Promise<number> {
    return Number(
      await (this.redis as unknown as { provRateBlock(k: string, ms: number): Promise<number> }).provRateBlock(
        this.key,
        Math.max(0, Math.ceil(ms)),
      ),
    );
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
