import type { Config } from '../shared/config.ts';
import { createConcurClient, type IdentityApi } from '../shared/concur/index.ts';
import type { Logger } from '../shared/logger.ts';
import { createRateLimiter } from '../shared/rate/index.ts';
import type { RedisConnection } from '../shared/redis.ts';
import { DEFAULT_RETRY, withConcurRetries } from '../shared/concur/retry.ts';
import type { PlanConcurState } from './plan.ts';

export interface PlanLookup {
  identity: Pick<IdentityApi, 'searchPages'>;
  call: <T>(fn: () => Promise<T>) => Promise<T>;
  /** The role catalogue, lists and spend users, through the UPS limiter. */
  state: PlanConcurState;
  close(): Promise<void>;
}

/**
 * The plan's way to Concur: the same limiters as the workers (IDENTITY_MAX_RPS for searches,
 * UPS_MAX_RPS for the spend and list reads; one bucket each in Redis; in auto mode the plan's calls
 * count towards finding the rates) and the same retry rules, so a plan never pushes Concur past the
 * limit.
 */
export function createPlanLookup(config: Config, redis: RedisConnection, log: Logger): PlanLookup {
  const identityLimiter = createRateLimiter('identity', { redis, config, log });
  const upsLimiter = createRateLimiter('ups', { redis, config, log });
  const concur = createConcurClient({
    config,
    redis,
    log,
    gates: { identity: identityLimiter, ups: upsLimiter },
    // Each limiter keeps only the calls of its own family.
    http: {
      observer: (event) => {
        identityLimiter.observe(event);
        upsLimiter.observe(event);
      },
    },
  });
  const policy = { ...DEFAULT_RETRY, attempts: config.IDENTITY_RETRY_ATTEMPTS };
  return {
    identity: concur.identity,
    call: (fn) => withConcurRetries(fn, policy, { block: (ms) => identityLimiter.block(ms), log }),
    state: {
      spend: concur.spend,
      lists: concur.lists,
      call: (fn) => withConcurRetries(fn, policy, { block: (ms) => upsLimiter.block(ms), log }),
      options: { listFields: config.CONCUR_LIST_FIELDS, ledgerCodes: config.CONCUR_LEDGER_CODES },
    },
    close: async () => {
      await identityLimiter.stop();
      await upsLimiter.stop();
      await concur.close();
    },
  };
}
