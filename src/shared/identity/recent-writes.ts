import type { RedisConnection } from '../redis.ts';

/**
 * The Concur users this pipeline wrote within the search lag (CONFLICT_RESOLVE_MAX_MS), shared by
 * every identity process through one Redis sorted set (member: uuid, score: when). Concur's search
 * may show such a user as it was before our write, so the identity stage re-reads them by id
 * before deciding anything (docs/concur-api.md#identity-v41-and-v4).
 */
export class RecentWrites {
  constructor(
    private readonly redis: RedisConnection,
    private readonly key: string,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Records a write to `id`, before it is sent: a write whose answer is lost counts too. */
  async remember(id: string): Promise<void> {
    if (this.windowMs <= 0) return;
    const at = this.now();
    await this.redis
      .multi()
      .zadd(this.key, at, id)
      .zremrangebyscore(this.key, '-inf', at - this.windowMs)
      .pexpire(this.key, this.windowMs)
      .exec();
  }

  /** The ids among `ids` written within the window. */
  async within(ids: readonly string[]): Promise<Set<string>> {
    if (this.windowMs <= 0 || ids.length === 0) return new Set();
    const scores = await this.redis.zmscore(this.key, ...ids);
    const since = this.now() - this.windowMs;
    return new Set(ids.filter((_, i) => scores[i] !== null && Number(scores[i]) > since));
  }
}

/** The sorted set of one company's recent writes (under the ledger's hash tag). */
export function recentWritesKey(prefix: string, companyId: string): string {
  return `${prefix}:identity:recent-writes:${companyId}`;
}
