import { batcherOf, defineScript, type LuaScript, type ScriptCall, type ScriptRunner } from '../lua.ts';
import { legacyPersonAsOfKey, personAsOfBucketKey } from '../keys.ts';
import type { RedisConnection } from '../redis.ts';

const lua = (name: string, file: string): LuaScript => ({ name, file: new URL(`./lua/${file}`, import.meta.url) });
const CLAIM = lua('provPersonAsOfClaim', 'as-of-claim.lua');
const GET = lua('provPersonAsOfGet', 'as-of-get.lua');
const PRUNE = lua('provPersonAsOfPrune', 'as-of-prune.lua');

/**
 * Buckets per company. Redis keeps a hash of up to 512 short fields (hash-max-listpack-entries)
 * as one compact listpack, ~70 B a person against ~220 B for a key of their own: 1,024 buckets
 * stay compact up to about 500,000 people (beyond, a bucket becomes a plain hash, ~120 B a person).
 * Never change it, nor personAsOfBucket: recorded entries would no longer be found.
 */
export const PERSON_AS_OF_BUCKETS = 1024;

/** Buckets the prune chore reads per pass: all of them every 32 passes, each pass a few ms of Redis. */
export const PRUNE_BUCKETS_PER_PASS = 32;

/** The bucket of a person: FNV-1a (32 bits) of their uuid, so any id spreads evenly. */
export function personAsOfBucket(uuid: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < uuid.length; i += 1) {
    h ^= uuid.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % PERSON_AS_OF_BUCKETS;
}

/** A claim's answer: go on, or the write is older than what was applied to the person already. */
export type AsOfClaim = { stale: false } | { stale: true; last: number };

/**
 * The as-of time of the last drop applied to each Concur person, shared by every identity process
 * (docs/safety.md#an-older-drop-never-undoes-a-newer-one): a field per person (uuid) in one of the
 * company's bucket hashes, kept `ttlMs` after the person's last write (0: for ever). A write claims
 * the person first, in one script, so of two drops the older one finds the newer one's time and
 * writes nothing. Expired entries count as absent at once; `pruneNext` deletes them later. A
 * person's key of earlier versions is still honoured (see as-of-claim.lua).
 */
export class PersonAsOf {
  private readonly getScript: ScriptRunner;
  private readonly pruneScript: ScriptRunner;
  /** The bucket the next prune pass starts at: anywhere, so restarts do not favour the first ones. */
  private pruneCursor = Math.floor(Math.random() * PERSON_AS_OF_BUCKETS);

  constructor(
    private readonly redis: RedisConnection,
    private readonly prefix: string,
    private readonly companyId: string,
    private readonly ttlMs: number,
  ) {
    this.getScript = defineScript(redis, GET);
    this.pruneScript = defineScript(redis, PRUNE);
  }

  /** Claims `uuid` for a write as of `asOf` (epoch ms): refused when a later as-of is recorded. */
  async claim(uuid: string, asOf: number): Promise<AsOfClaim> {
    const [reply] = await batcherOf(this.redis).run([this.claimCall(uuid, asOf)]);
    const last = Number(reply);
    return last > asOf ? { stale: true, last } : { stale: false };
  }

  /**
   * `claim` as a script call, to send with the row's move when its answer is not needed (a person
   * this row has just created has no later as-of).
   */
  claimCall(uuid: string, asOf: number): ScriptCall {
    return { script: CLAIM, keys: this.keys(uuid), args: [uuid, asOf, this.ttlMs] };
  }

  /** The recorded as-of of `uuid`, undefined when none. */
  async get(uuid: string): Promise<number | undefined> {
    const v = await this.getScript(this.keys(uuid), [uuid]);
    return v === null ? undefined : Number(v);
  }

  /**
   * Deletes the expired entries of the next `buckets` buckets (every bucket once in
   * PERSON_AS_OF_BUCKETS / buckets calls); returns how many entries were deleted.
   */
  async pruneNext(buckets = PRUNE_BUCKETS_PER_PASS): Promise<number> {
    const keys = Array.from({ length: Math.min(buckets, PERSON_AS_OF_BUCKETS) }, (_, i) =>
      this.bucketKey((this.pruneCursor + i) % PERSON_AS_OF_BUCKETS),
    );
    this.pruneCursor = (this.pruneCursor + keys.length) % PERSON_AS_OF_BUCKETS;
    return Number(await this.pruneScript(keys, []));
  }

  /** The claim's and the read's KEYS: the person's bucket, then their key of earlier versions. */
  private keys(uuid: string): [string, string] {
    return [this.bucketKey(personAsOfBucket(uuid)), legacyPersonAsOfKey(this.prefix, this.companyId, uuid)];
  }

  private bucketKey(bucket: number): string {
    return personAsOfBucketKey(this.prefix, this.companyId, bucket);
  }
}
