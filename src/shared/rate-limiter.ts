import { defineScript, type LuaScript, type ScriptRunner } from './lua.ts';
import type { RedisConnection } from './redis.ts';

/**
 * A token bucket in Redis shared by every process of a role, plus a "blocked until" mark set
 * when Concur answers 429, so one throttled call pauses all workers for Retry-After.
 * Time comes from Redis (TIME), so processes with skewed clocks agree.
 *
 * The hash also tells readers (/metrics, the drop page, `provision status`) the rate in force
 * (`rate`, `mode` fixed or auto) and when Concur last answered 429 (`last429`). In auto mode the
 * rate is the adaptive controller's (rate/adaptive-limiter.ts), kept in the same hash.
 */
const ACQUIRE: LuaScript = { name: 'provRateAcquire', file: new URL('./rate/lua/acquire.lua', import.meta.url) };
const BLOCK: LuaScript = { name: 'provRateBlock', file: new URL('./rate/lua/block.lua', import.meta.url) };

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
  private readonly key: string;
  private readonly takeToken: ScriptRunner;
  private readonly extendBlock: ScriptRunner;
  private readonly rps: number;
  private readonly burst: number;
  private readonly startRps: number;

  constructor(redis: RedisConnection, key: string, options: RateLimiterOptions) {
    this.key = key;
    this.rps = options.rps === 'auto' ? -1 : options.rps;
    this.burst = options.rps === 'auto' ? (options.burstSeconds ?? 0.25) : (options.burst ?? Math.max(1, options.rps));
    this.startRps = options.startRps ?? 5;
    this.takeToken = defineScript(redis, ACQUIRE);
    this.extendBlock = defineScript(redis, BLOCK);
  }

  /** Waits until a call may go out (a token is taken and no 429 block is in force). */
  async acquire(signal?: AbortSignal): Promise<void> {
    for (;;) {
      signal?.throwIfAborted();
      const wait = Number(await this.takeToken([this.key], [this.rps, this.burst, this.startRps]));
      if (wait <= 0) return;
      await sleep(wait, signal);
    }
  }

  /** Blocks every process's calls for `ms` (Concur's Retry-After). Returns the ms in force. */
  async block(ms: number): Promise<number> {
    return Number(await this.extendBlock([this.key], [Math.max(0, Math.ceil(ms))]));
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
