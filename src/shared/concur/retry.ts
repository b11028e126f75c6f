import { concurErrorKind } from './errors.ts';
import { sleep } from '../rate-limiter.ts';
import type { Logger } from '../logger.ts';

export interface RetryPolicy {
  /** Attempts for retryable failures (5xx, timeouts, resets), the first included. */
  attempts: number;
  /** First backoff; doubles per attempt, full jitter. */
  baseMs: number;
  /** Backoff cap. */
  maxMs: number;
  /** 429s tolerated for one call before giving up (each waits Retry-After). */
  maxRateLimited: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 6, baseMs: 500, maxMs: 30_000, maxRateLimited: 100 };

export interface RetryDeps {
  /** Blocks every process's calls of the family for Retry-After (the whole queue pauses). */
  block(ms: number): Promise<number>;
  log?: Logger;
  random?: () => number;
  wait?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Which error kinds are worth another attempt. Default: `retryable` only. */
  retryableKinds?: ReadonlySet<string>;
}

const RETRYABLE_KINDS: ReadonlySet<string> = new Set(['retryable']);

/**
 * Runs one Concur call under the retry rules: 429 → block the shared limiter for Retry-After and
 * try again; retryable → exponential backoff with full jitter up to `attempts`; anything else (and
 * the last retryable failure) is thrown to the caller, who fails the row with Concur's message.
 */
export async function withConcurRetries<T>(
  fn: () => Promise<T>,
  policy: RetryPolicy,
  deps: RetryDeps,
  signal?: AbortSignal,
): Promise<T> {
  const random = deps.random ?? Math.random;
  const wait = deps.wait ?? sleep;
  let failures = 0;
  let rateLimited = 0;
  for (;;) {
    signal?.throwIfAborted();
    try {
      return await fn();
    } catch (err) {
      const kind = concurErrorKind(err);
      if (kind === 'rate_limited' && rateLimited < policy.maxRateLimited) {
        rateLimited += 1;
        const retryAfterMs = Number((err as { details?: { retryAfterMs?: unknown } }).details?.retryAfterMs ?? 0);
        // Retry-After: 0 still means "slow down": wait a little rather than hammer.
        await deps.block(Math.max(retryAfterMs, 250));
        continue;
      }
      if (kind !== undefined && (deps.retryableKinds ?? RETRYABLE_KINDS).has(kind) && failures + 1 < policy.attempts) {
        failures += 1;
        const cap = Math.min(policy.maxMs, policy.baseMs * 2 ** (failures - 1));
        const delay = Math.round(cap / 2 + (random() * cap) / 2);
        deps.log?.debug({ attempt: failures, delay }, 'retrying a transient Concur failure');
        await wait(delay, signal);
        continue;
      }
      throw err;
    }
  }
}
