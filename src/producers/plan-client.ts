import type { Config } from '../shared/config.ts';
import { createConcurClient, type IdentityApi } from '../shared/concur/index.ts';
import type { Logger } from '../shared/logger.ts';
import { createRateLimiter } from '../shared/rate/index.ts';
import type { RedisConnection } from '../shared/redis.ts';
import { DEFAULT_RETRY, withConcurRetries } from '../shared/concur/retry.ts';

export interface PlanLookup {
  identity: Pick<IdentityApi, 'searchPages'>;
  call: <T>(fn: () => Promise<T>) => Promise<T>;
  close(): Promise<void>;
}

/**
 * The plan's way to Concur: the same identity limiter as the identity workers (IDENTITY_MAX_RPS,
 * one bucket in Redis; in auto mode the plan's calls count towards finding the rate) and the same
 * retry rules, so a plan never pushes Concur past the limit.
 */
export function createPlanLookup(config: Config, redis: RedisConnection, log: Logger): PlanLookup {
  const limiter = createRateLimiter('identity', { redis, config, log });
  const concur = createConcurClient({
    config,
    redis,
    log,
    gates: { identity: limiter },
    http: { observer: (event) => limiter.observe(event) },
  });
  const policy = { ...DEFAULT_RETRY, attempts: config.IDENTITY_RETRY_ATTEMPTS };
  return {
    identity: concur.identity,
    call: (fn) => withConcurRetries(fn, policy, { block: (ms) => limiter.block(ms), log }),
    close: async () => {
      await limiter.stop();
      await concur.close();
    },
  };
}
