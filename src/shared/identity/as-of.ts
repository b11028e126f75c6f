import { defineScript, type LuaScript, type ScriptCall, type ScriptRunner } from '../lua.ts';
import { personAsOfKey } from '../keys.ts';
import type { RedisConnection } from '../redis.ts';

const CLAIM: LuaScript = { name: 'provPersonAsOfClaim', file: new URL('./lua/as-of-claim.lua', import.meta.url) };

/** A claim's answer: go on, or the write is older than what was applied to the person already. */
export type AsOfClaim = { stale: false } | { stale: true; last: number };

/**
 * The as-of time of the last drop applied to each Concur person, shared by every identity process
 * (docs/safety.md#an-older-drop-never-undoes-a-newer-one): one Redis key per person (uuid), kept
 * `ttlMs` after the person's last write (0: for ever). A write claims the person first, in one
 * script, so of two drops the older one finds the newer one's time and writes nothing.
 */
export class PersonAsOf {
  private readonly claimScript: ScriptRunner;

  constructor(
    private readonly redis: RedisConnection,
    private readonly prefix: string,
    private readonly companyId: string,
    private readonly ttlMs: number,
  ) {
    this.claimScript = defineScript(redis, CLAIM);
  }

  /** Claims `uuid` for a write as of `asOf` (epoch ms): refused when a later as-of is recorded. */
  async claim(uuid: string, asOf: number): Promise<AsOfClaim> {
    const last = Number(await this.claimScript([this.key(uuid)], [asOf, this.ttlMs]));
    return last > asOf ? { stale: true, last } : { stale: false };
  }

  /**
   * `claim` as a script call, to send with the row's move when its answer is not needed (a person
   * this row has just created has no later as-of).
   */
  claimCall(uuid: string, asOf: number): ScriptCall {
    return { script: CLAIM, keys: [this.key(uuid)], args: [asOf, this.ttlMs] };
  }

  /** The recorded as-of of `uuid`, undefined when none. */
  async get(uuid: string): Promise<number | undefined> {
    const v = await this.redis.get(this.key(uuid));
    return v === null ? undefined : Number(v);
  }

  private key(uuid: string): string {
    return personAsOfKey(this.prefix, this.companyId, uuid);
  }
}
