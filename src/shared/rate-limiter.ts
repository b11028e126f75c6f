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

/** With no limit, how long this process lets calls go before it reads the block mark again. */
export const UNLIMITED_RECHECK_MS = 50;

interface Waiter {
  granted(): void;
  failed(err: unknown): void;
}

export class SharedRateLimiter {
  private readonly key: string;
  private readonly takeTokens: ScriptRunner;
  private readonly extendBlock: ScriptRunner;
  private readonly rps: number;
  private readonly burst: number;
  private readonly startRps: number;
  /** Calls waiting for a token, first come first served: asked for together, in one script. */
  private readonly waiting: Waiter[] = [];
  private asking = false;
  /** Ends the asker's wait early once nobody waits any more. */
  private wake: AbortController | undefined;
  /** No limit and no block seen: calls go without asking Redis until then (this process's clock). */
  private openUntil = 0;

  constructor(redis: RedisConnection, key: string, options: RateLimiterOptions) {
    this.key = key;
    this.rps = options.rps === 'auto' ? -1 : options.rps;
    this.burst = options.rps === 'auto' ? (options.burstSeconds ?? 0.25) : (options.burst ?? Math.max(1, options.rps));
    this.startRps = options.startRps ?? 5;
    this.takeTokens = defineScript(redis, ACQUIRE);
    this.extendBlock = defineScript(redis, BLOCK);
  }

  /**
   * Waits until a call may go out (a token is taken and no 429 block is in force). The calls of
   * one process that wait at the same moment share one round trip to Redis; with no limit, the
   * block mark is read at most every UNLIMITED_RECHECK_MS (another process's 429 pause reaches
   * this one that much later).
   */
  acquire(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    if (this.openUntil > Date.now()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        const i = this.waiting.indexOf(waiter);
        if (i >= 0) this.waiting.splice(i, 1);
        if (this.waiting.length === 0) this.wake?.abort();
        reject(signal?.reason as Error);
      };
      const waiter: Waiter = {
        granted: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        failed: (err) => {
          signal?.removeEventListener('abort', onAbort);
          reject(err as Error);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(waiter);
      if (this.asking) return;
      this.asking = true;
      // After the calls of this same moment have joined the queue.
      queueMicrotask(() => void this.ask());
    });
  }

  /** Asks for a token for every waiting call, hands out what was granted, waits, asks again. */
  private async ask(): Promise<void> {
    try {
      while (this.waiting.length > 0) {
        const want = this.waiting.length;
        let reply: unknown[];
        try {
          reply = (await this.takeTokens([this.key], [this.rps, this.burst, this.startRps, want])) as unknown[];
        } catch (err) {
          for (const w of this.waiting.splice(0, want)) w.failed(err);
          continue;
        }
        const granted = Number(reply[0]);
        const wait = Number(reply[1]);
        if (this.rps === 0 && wait <= 0) this.openUntil = Date.now() + UNLIMITED_RECHECK_MS;
        for (const w of this.waiting.splice(0, granted)) w.granted();
        if (this.waiting.length > 0 && wait > 0) {
          // Cut short (an abort) once the last waiting call gives up.
          this.wake = new AbortController();
          await sleep(wait, this.wake.signal).catch(() => undefined);
          this.wake = undefined;
        }
      }
    } finally {
      this.asking = false;
    }
  }

  /** Blocks every process's calls for `ms` (Concur's Retry-After). Returns the ms in force. */
  async block(ms: number): Promise<number> {
    this.openUntil = 0;
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
