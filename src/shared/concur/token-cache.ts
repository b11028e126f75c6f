import { createHash, randomUUID } from 'node:crypto';
import type { RedisConnection } from '../redis.ts';
import { ProvError } from '../errors.ts';
import { tokenKey, tokenLockKey, tokenRefusedKey } from '../keys.ts';
import { defineScript, type LuaScript, type ScriptRunner } from '../lua.ts';
import type { TokenSealer } from './token-seal.ts';

/** The company token as every process sees it. */
export interface TokenRecord {
  accessToken: string;
  /** Epoch ms when Concur stops accepting the access token. */
  expiresAt: number;
  /** Epoch ms from which we refresh ahead of expiry. */
  refreshAt: number;
  /** Base URL for refreshes and every API call (from the token response). */
  geolocation: string;
  /** The latest refresh token (Concur may rotate it; the old one then stops working). */
  refreshToken: string | undefined;
  /**
   * Read from a record in clear (written before records were sealed, or planted): its access
   * token is never used, its refresh token is used once and the answer is stored sealed.
   */
  storedInClear?: true;
}

/** Concur refused every credential we hold (docs/operations.md#concur-refuses-the-token). */
export interface TokenRefusal {
  /** Concur's OAuth code of the refresh token's refusal (108), else of the last refusal. */
  code: number | undefined;
  /** Epoch ms of the first refusal since a token last worked. */
  since: number;
  /** What an operator must do, in one line. */
  message: string;
}

export interface WriteGuard {
  /** The lock token we hold, if any. */
  lockToken: string | undefined;
  /** The refresh token the grant used; the write also goes through if the store still holds it. */
  usedRefreshToken: string | undefined;
}

/**
 * Where the shared token lives. The Redis store serves many processes; the memory store is for
 * one-process tools and unit tests.
 */
export interface TokenStore {
  read(): Promise<TokenRecord | undefined>;
  /** Takes the refresh lock; returns its token, or undefined when someone else holds it. */
  tryLock(ttlMs: number): Promise<string | undefined>;
  unlock(lockToken: string): Promise<void>;
  /**
   * Replaces the record in one atomic step if the guard still holds; returns whether it wrote.
   * A written token also ends a recorded refusal.
   */
  write(record: TokenRecord, guard: WriteGuard): Promise<boolean>;
  /** Records that Concur refuses every credential (the first refusal's time is kept). */
  markRefused(refusal: TokenRefusal): Promise<void>;
  /** The recorded refusal, until a token is written again. */
  readRefusal(): Promise<TokenRefusal | undefined>;
}

const UNLOCK: LuaScript = { name: 'provTokenUnlock', file: new URL('./lua/token-unlock.lua', import.meta.url) };
const WRITE: LuaScript = { name: 'provTokenWrite', file: new URL('./lua/token-write.lua', import.meta.url) };
const REFUSE: LuaScript = { name: 'provTokenRefuse', file: new URL('./lua/token-refuse.lua', import.meta.url) };

export interface RedisTokenStoreOptions {
  redis: RedisConnection;
  /** The queue prefix (a hash tag such as `{prov}` keeps both keys in one cluster slot). */
  prefix: string;
  clientId: string;
  companyId: string;
  /** Seals and opens the record (TOKEN_ENCRYPTION_KEY). */
  sealer: TokenSealer;
}

/** The key that holds the shared token. */
export { tokenKey };

function parseRefusal(h: Record<string, string>): TokenRefusal | undefined {
  if (!h.since) return undefined;
  const code = Number(h.code);
  return {
    code: h.code && Number.isInteger(code) ? code : undefined,
    since: Number(h.since),
    message: h.message ?? '',
  };
}

/** Concur's refusal of the company's credentials, for readers without a token store (server, status). */
export async function readTokenRefusal(
  redis: RedisConnection,
  prefix: string,
  clientId: string,
  companyId: string,
): Promise<TokenRefusal | undefined> {
  return parseRefusal(await redis.hgetall(tokenRefusedKey(prefix, clientId, companyId)));
}

export class RedisTokenStore implements TokenStore {
  private readonly redis: RedisConnection;
  private readonly key: string;
  private readonly lockKey: string;
  private readonly refusedKey: string;
  private readonly sealer: TokenSealer;
  private readonly scripts: Record<'unlock' | 'write' | 'refuse', ScriptRunner>;

  constructor(options: RedisTokenStoreOptions) {
    this.redis = options.redis;
    const { prefix, clientId, companyId } = options;
    this.key = tokenKey(prefix, clientId, companyId);
    this.lockKey = tokenLockKey(prefix, clientId, companyId);
    this.refusedKey = tokenRefusedKey(prefix, clientId, companyId);
    this.sealer = options.sealer;
    this.scripts = {
      unlock: defineScript(this.redis, UNLOCK),
      write: defineScript(this.redis, WRITE),
      refuse: defineScript(this.redis, REFUSE),
    };
  }

  /**
   * The stored token. A sealed record that does not open (written with another
   * TOKEN_ENCRYPTION_KEY, or altered) is PROV_ERR_TOKEN_KEY, on which processing pauses.
   */
  async read(): Promise<TokenRecord | undefined> {
    const h = await this.guard(() => this.redis.hgetall(this.key));
    if (h.sealed !== undefined) {
      const token = this.sealer.open(h.sealed, this.key);
      if (token) return token;
      throw new ProvError(
        'PROV_ERR_TOKEN_KEY',
        `The Concur token in Redis (${this.key}) does not open with TOKEN_ENCRYPTION_KEY: it was written with another key, or altered. Set the key it was written with, or delete that Redis key (a new token is then asked for with CONCUR_REQUEST_TOKEN), and restart the workers`,
        { details: { tokenRefused: true, tokenUnreadable: true } },
      );
    }
    if (!h.accessToken || !h.geolocation) return undefined;
    return {
      accessToken: h.accessToken,
      expiresAt: Number(h.expiresAt) || 0,
      // Due now: the refresh replaces it with a sealed record.
      refreshAt: 0,
      geolocation: h.geolocation,
      refreshToken: h.refreshToken || undefined,
      storedInClear: true,
    };
  }

  async tryLock(ttlMs: number): Promise<string | undefined> {
    const token = randomUUID();
    const ok = await this.guard(() => this.redis.set(this.lockKey, token, 'PX', ttlMs, 'NX'));
    return ok === 'OK' ? token : undefined;
  }

  async unlock(lockToken: string): Promise<void> {
    await this.guard(() => this.scripts.unlock([this.lockKey], [lockToken]));
  }

  async write(record: TokenRecord, guard: WriteGuard): Promise<boolean> {
    const used = guard.usedRefreshToken;
    const sealed = this.sealer.seal(record, this.key);
    const result = await this.guard(() =>
      this.scripts.write(
        [this.key, this.lockKey, this.refusedKey],
        [
          guard.lockToken ?? '',
          used === undefined ? '' : this.sealer.refreshTag(used),
          used === undefined ? '' : createHash('sha1').update(used).digest('hex'),
          sealed,
          record.refreshToken === undefined ? '' : this.sealer.refreshTag(record.refreshToken),
        ],
      ),
    );
    return result === 1;
  }

  async markRefused(refusal: TokenRefusal): Promise<void> {
    await this.guard(() =>
      this.scripts.refuse(
        [this.refusedKey],
        [refusal.code === undefined ? '' : String(refusal.code), String(refusal.since), refusal.message],
      ),
    );
  }

  async readRefusal(): Promise<TokenRefusal | undefined> {
    return parseRefusal(await this.guard(() => this.redis.hgetall(this.refusedKey)));
  }

  private async guard<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      // ioredis errors carry no secrets, but keep the message generic all the same.
      throw new ProvError('PROV_ERR_REDIS', 'Redis failed while reading or writing the Concur token', {
        retryable: true,
        cause: err,
      });
    }
  }
}

/** Single-process store: same contract, no Redis. */
export class MemoryTokenStore implements TokenStore {
  private record: TokenRecord | undefined;
  private lock: { token: string; until: number } | undefined;
  private refusal: TokenRefusal | undefined;

  async markRefused(refusal: TokenRefusal): Promise<void> {
    this.refusal = { ...refusal, since: this.refusal?.since ?? refusal.since };
  }

  async readRefusal(): Promise<TokenRefusal | undefined> {
    return this.refusal ? { ...this.refusal } : undefined;
  }

  async read(): Promise<TokenRecord | undefined> {
    return this.record ? { ...this.record } : undefined;
  }

  async tryLock(ttlMs: number): Promise<string | undefined> {
    const now = Date.now();
    if (this.lock && this.lock.until > now) return undefined;
    this.lock = { token: randomUUID(), until: now + ttlMs };
    return this.lock.token;
  }

  async unlock(lockToken: string): Promise<void> {
    if (this.lock?.token === lockToken) this.lock = undefined;
  }

  async write(record: TokenRecord, guard: WriteGuard): Promise<boolean> {
    const mine = guard.lockToken !== undefined && this.lock?.token === guard.lockToken && this.lock.until > Date.now();
    const same = guard.usedRefreshToken !== undefined && this.record?.refreshToken === guard.usedRefreshToken;
    if (!(mine || same || (this.record === undefined && guard.lockToken !== undefined))) return false;
    this.record = { ...record };
    this.refusal = undefined;
    return true;
  }
}
