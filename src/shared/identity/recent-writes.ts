import type { ConcurUser } from '../concur/index.ts';
import { recentWriteKey, recentWritesKey } from '../keys.ts';
import { batcherOf, type LuaScript, type ScriptCall } from '../lua.ts';
import type { RedisConnection } from '../redis.ts';

const RECORD: LuaScript = { name: 'provRecentWrite', file: new URL('./lua/recent-write.lua', import.meta.url) };

/** Recorded before a write is sent: whatever Concur made of it is not known yet. */
const UNKNOWN = '?';

/**
 * The Concur users this pipeline wrote within the search lag (CONFLICT_RESOLVE_MAX_MS), shared by
 * every identity process: one short-lived Redis key per user (expiring after the window), holding
 * the `meta.version` / `meta.lastModified` Concur answered, or "unknown" while the answer is
 * pending or was lost. Concur's search may show such a user as it was before our write; the
 * identity stage re-reads by id every recent user whose search result is not the version it wrote
 * (docs/safety.md#exact-when-concur-is-not).
 */
export class RecentWrites {
  constructor(
    private readonly redis: RedisConnection,
    /** Key prefix under the ledger's hash tag, so one MGET covers a chunk in a cluster too. */
    private readonly keyPrefix: string,
    private readonly windowMs: number,
  ) {}

  /** Records a write to `id` before it is sent: a write whose answer is lost counts too. */
  async remember(id: string): Promise<void> {
    if (this.windowMs > 0) await batcherOf(this.redis).run([this.record(id, UNKNOWN)]);
  }

  /** Records the version Concur answered for a write. */
  async confirm(user: ConcurUser): Promise<void> {
    const call = this.confirmCall(user);
    if (call) await batcherOf(this.redis).run([call]);
  }

  /** `confirm` as a script call, to send with the row's move (undefined when there is no window). */
  confirmCall(user: ConcurUser): ScriptCall | undefined {
    return this.windowMs > 0 ? this.record(user.id, versionTag(user)) : undefined;
  }

  private record(id: string, tag: string): ScriptCall {
    return { script: RECORD, keys: [this.key(id)], args: [tag, this.windowMs] };
  }

  /** Of `users` (as search showed them), those written recently that search may show stale. */
  async stale(users: readonly ConcurUser[]): Promise<Set<string>> {
    if (this.windowMs <= 0 || users.length === 0) return new Set();
    const tags = await this.redis.mget(...users.map((u) => this.key(u.id)));
    const out = new Set<string>();
    users.forEach((u, i) => {
      const tag = tags[i];
      if (tag !== null && tag !== undefined && (tag === UNKNOWN || tag !== versionTag(u))) out.add(u.id);
    });
    return out;
  }

  private key(id: string): string {
    return recentWriteKey(this.keyPrefix, id);
  }
}

/** What identifies one state of a user: `meta.version` and `meta.lastModified`. */
function versionTag(user: ConcurUser): string {
  const meta = user.meta;
  const version = meta?.version === undefined ? '' : String(meta.version);
  const modified = meta?.lastModified ?? '';
  return version === '' && modified === '' ? UNKNOWN : `${version}|${modified}`;
}

/** The key prefix of one company's recent writes (under the ledger's hash tag). */
export { recentWritesKey };
