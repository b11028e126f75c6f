// Concur call rates: a fixed shared limit, or the adaptive one that finds Concur's
// (docs/architecture.md#finding-concurs-rate-limit).
import type { Config } from '../config.ts';
import type { HttpCallEvent } from '../concur/http.ts';
import type { Logger } from '../logger.ts';
import { SharedRateLimiter } from '../rate-limiter.ts';
import type { RedisConnection } from '../redis.ts';
import { AdaptiveRateLimiter } from './adaptive-limiter.ts';

export type RateApi = 'identity' | 'ups';
export const RATE_APIS: readonly RateApi[] = ['identity', 'ups'];

/** Where an auto limiter starts: low, so a fleet never opens with a burst of 429s. */
export const AUTO_START_RPS = 5;
/** Never below this: a 429 storm slows the fleet down, Retry-After pauses it. */
export const AUTO_MIN_RPS = 0.5;

/** The limiter's hash: shared by every process calling that API family. */
export function rateLimitKey(prefix: string, api: RateApi): string {
  return `${prefix}:ratelimit:${api}`;
}

/**
 * Which limited family a Concur path belongs to: Identity, or the UPS gate's (UPS, provisioning
 * status, spend read-back, List v4). Token and event-subscription calls belong to none.
 */
export function apiOfPath(path: string): RateApi | undefined {
  if (path.includes('/profile/identity/')) return 'identity';
  if (path.includes('/profile/') || path.includes('/list/v4')) return 'ups';
  return undefined;
}

/** What a worker needs from a limiter, fixed or adaptive. */
export interface ConcurRateLimiter {
  readonly api: RateApi;
  /** Waits until a call may go out. */
  acquire(signal?: AbortSignal): Promise<void>;
  /** A 429: pauses every process for Retry-After. Returns the ms in force. */
  block(ms: number): Promise<number>;
  /** Every finished HTTP call of the process (other families are ignored). */
  observe(event: HttpCallEvent): void;
  /** Reports what is left (a shutdown step). */
  stop(): Promise<void>;
}

/** The limiter IDENTITY_MAX_RPS / UPS_MAX_RPS ask for: `auto`, or a fixed rate (0 = none). */
export function createRateLimiter(
  api: RateApi,
  deps: {
    redis: RedisConnection;
    config: Pick<
      Config,
      'QUEUE_PREFIX' | 'IDENTITY_MAX_RPS' | 'UPS_MAX_RPS' | 'IDENTITY_RPS_CEILING' | 'UPS_RPS_CEILING'
    >;
    log?: Logger;
  },
): ConcurRateLimiter {
  const { redis, config } = deps;
  const key = rateLimitKey(config.QUEUE_PREFIX, api);
  const setting = api === 'identity' ? config.IDENTITY_MAX_RPS : config.UPS_MAX_RPS;
  if (setting !== 'auto') {
    const fixed = new SharedRateLimiter(redis, key, { rps: setting });
    return {
      api,
      acquire: (signal) => fixed.acquire(signal),
      block: (ms) => fixed.block(ms),
      observe: () => undefined,
      stop: () => Promise.resolve(),
    };
  }
  const ceilingRps = api === 'identity' ? config.IDENTITY_RPS_CEILING : config.UPS_RPS_CEILING;
  const adaptive = new AdaptiveRateLimiter(redis, key, {
    api,
    controller: { startRps: AUTO_START_RPS, minRps: Math.min(AUTO_MIN_RPS, ceilingRps), ceilingRps },
    ...(deps.log ? { log: deps.log } : {}),
  });
  return {
    api,
    acquire: (signal) => adaptive.acquire(signal),
    block: (ms) => adaptive.block(ms),
    observe: (event) => {
      if (apiOfPath(event.path) === api) adaptive.observe(event);
    },
    stop: () => adaptive.stop(),
  };
}

/** What /metrics, the drop page and `provision status` show of a family's limiter. */
export interface RateLimitView {
  /** `auto`, `fixed`, or undefined when no process has called yet (or for an hour). */
  mode: 'auto' | 'fixed' | undefined;
  /** Calls per second in force (0 = no limit); undefined when unknown. */
  rps: number | undefined;
  /** When Concur last answered 429 (ms since the epoch); undefined when not within the hour. */
  last429At: number | undefined;
  /** While a Retry-After pause is in force: until when (ms since the epoch). */
  blockedUntil: number | undefined;
}

export async function readRateLimits(redis: RedisConnection, prefix: string): Promise<Record<RateApi, RateLimitView>> {
  const views = await Promise.all(
    RATE_APIS.map(async (api) => {
      const [mode, rate, last429, blocked] = await redis.hmget(
        rateLimitKey(prefix, api),
        'mode',
        'rate',
        'last429',
        'blockedUntil',
      );
      const num = (v: string | null | undefined): number | undefined =>
        v === null || v === '' || !Number.isFinite(Number(v)) ? undefined : Number(v);
      const blockedUntil = num(blocked);
      const view: RateLimitView = {
        mode: mode === 'auto' || mode === 'fixed' ? mode : undefined,
        rps: num(rate),
        last429At: num(last429),
        blockedUntil: blockedUntil !== undefined && blockedUntil > Date.now() ? blockedUntil : undefined,
      };
      return [api, view] as const;
    }),
  );
  return Object.fromEntries(views) as Record<RateApi, RateLimitView>;
}
