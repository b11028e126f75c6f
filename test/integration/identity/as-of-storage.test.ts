import { randomUUID } from 'node:crypto';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import {
  PERSON_AS_OF_BUCKETS,
  PersonAsOf,
  personAsOfBucket,
  PRUNE_BUCKETS_PER_PASS,
} from '../../../src/shared/identity/as-of.ts';
import { legacyPersonAsOfKey, personAsOfBucketKey } from '../../../src/shared/keys.ts';
import { Ledger } from '../../../src/shared/ledger/ledger.ts';
import { createLogger } from '../../../src/shared/logger.ts';
import { createLedgerCompaction } from '../../../src/workers/identity/compaction.ts';
import { deletePrefix, testRedis, uniquePrefix } from '../../helpers/redis.ts';

const COMPANY = 'c0ffee00-0000-4000-8000-000000000001';
const T = Date.parse('2026-11-20T00:00:00Z');
const HOUR = 3600 * 1000;
const DAY = 24 * HOUR;

const redis = testRedis();
let prefix: string;
beforeEach(async () => {
  if (prefix) await deletePrefix(redis, prefix);
  prefix = uniquePrefix('asof');
});
afterAll(async () => {
  if (prefix) await deletePrefix(redis, prefix);
  await redis.quit();
});

const asOfStore = (ttlMs = 400 * DAY): PersonAsOf => new PersonAsOf(redis, prefix, COMPANY, ttlMs);
const bucketOf = (uuid: string): string => personAsOfBucketKey(prefix, COMPANY, personAsOfBucket(uuid));
const legacyOf = (uuid: string): string => legacyPersonAsOfKey(prefix, COMPANY, uuid);
/** The person's entry as stored: [as-of, expires at (undefined: kept for ever)]. */
async function entry(uuid: string): Promise<[number, number | undefined] | undefined> {
  const v = await redis.hget(bucketOf(uuid), uuid);
  if (v === null) return undefined;
  const [asOf, expiresAt] = v.split(':');
  return [Number(asOf), expiresAt === undefined ? undefined : Number(expiresAt)];
}
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
async function allKeys(): Promise<string[]> {
  const keys: string[] = [];
  for await (const batch of redis.scanStream({ match: `${prefix}*`, count: 1000 })) keys.push(...(batch as string[]));
  return keys;
}

describe('person as-of storage (bucket hashes)', () => {
  it('records the first claim, lets an equal or later one through and records it, refuses an older one unchanged', async () => {
    const store = asOfStore();
    const uuid = randomUUID();
    expect(await store.get(uuid)).toBeUndefined();
    expect(await store.claim(uuid, T)).toEqual({ stale: false });
    expect(await store.get(uuid)).toBe(T);
    expect(await store.claim(uuid, T)).toEqual({ stale: false });
    expect(await store.claim(uuid, T + HOUR)).toEqual({ stale: false });
    expect(await store.get(uuid)).toBe(T + HOUR);
    const before = await entry(uuid);
    expect(await store.claim(uuid, T)).toEqual({ stale: true, last: T + HOUR });
    expect(await entry(uuid)).toEqual(before);
    // One field in one bucket hash: no key of the person's own.
    expect(await allKeys()).toEqual([bucketOf(uuid)]);
    expect(await redis.hlen(bucketOf(uuid))).toBe(1);
  });

  it('keeps an entry ttlMs after the last accepted claim; a refused claim does not extend it; expired counts as absent', async () => {
    const store = asOfStore(1_000);
    const uuid = randomUUID();
    const t0 = Date.now();
    await store.claim(uuid, T);
    const [, first] = (await entry(uuid))!;
    expect(first).toBeGreaterThanOrEqual(t0 + 1_000 - 50);
    expect(first).toBeLessThanOrEqual(Date.now() + 1_000 + 50);
    await sleep(300);
    await store.claim(uuid, T + HOUR);
    const [, restarted] = (await entry(uuid))!;
    expect(restarted).toBeGreaterThanOrEqual(first! + 250);
    await sleep(100);
    expect(await store.claim(uuid, T)).toEqual({ stale: true, last: T + HOUR });
    expect((await entry(uuid))![1]).toBe(restarted);

    await sleep(restarted! - Date.now() + 50);
    // Past its expiry, before any prune: absent to both the read and the claim.
    expect(await redis.hexists(bucketOf(uuid), uuid)).toBe(1);
    expect(await store.get(uuid)).toBeUndefined();
    expect(await store.claim(uuid, T)).toEqual({ stale: false });
    expect(await store.get(uuid)).toBe(T);
  });

  it('TTL 0 keeps the entry for ever (no expiry stored, never pruned)', async () => {
    const store = asOfStore(0);
    const uuid = randomUUID();
    await store.claim(uuid, T);
    expect(await redis.hget(bucketOf(uuid), uuid)).toBe(String(T));
    expect(await store.pruneNext(PERSON_AS_OF_BUCKETS)).toBe(0);
    expect(await store.get(uuid)).toBe(T);
    expect(await store.claim(uuid, T - HOUR)).toEqual({ stale: true, last: T });
  });

  it('prunes the expired entries only, bucket after bucket: every bucket once per full round of passes', async () => {
    const short = asOfStore(200);
    const forever = asOfStore(0);
    const long = asOfStore(DAY);
    const expiring = Array.from({ length: 300 }, () => randomUUID());
    const kept = Array.from({ length: 20 }, () => randomUUID());
    const lasting = Array.from({ length: 20 }, () => randomUUID());
    for (const u of expiring) await short.claim(u, T);
    for (const u of kept) await forever.claim(u, T);
    for (const u of lasting) await long.claim(u, T);
    await sleep(300);

    let pruned = 0;
    for (let pass = 0; pass < PERSON_AS_OF_BUCKETS / PRUNE_BUCKETS_PER_PASS; pass += 1)
      pruned += await long.pruneNext();
    expect(pruned).toBe(300);
    for (const u of expiring) expect(await redis.hexists(bucketOf(u), u)).toBe(0);
    for (const u of [...kept, ...lasting]) expect(await long.get(u)).toBe(T);
    // A bucket left empty is gone with its last field.
    const buckets = new Set([...kept, ...lasting].map(bucketOf));
    expect(new Set(await allKeys())).toEqual(buckets);
  });

  it('the compaction chore prunes too: a round of passes clears every bucket of expired entries', async () => {
    const uuids = Array.from({ length: 100 }, () => randomUUID());
    const store = asOfStore(100);
    for (const u of uuids) await store.claim(u, T);
    await sleep(200);
    const compaction = createLedgerCompaction(
      { ledger: new Ledger(redis, prefix), redis, prefix, log: createLogger({ level: 'silent' }), asOf: asOfStore() },
      60_000,
    );
    for (let pass = 0; pass < PERSON_AS_OF_BUCKETS / PRUNE_BUCKETS_PER_PASS; pass += 1) await compaction.runOnce();
    expect(await allKeys()).toEqual([]);
  });

  it('spreads people over the buckets, each small enough for Redis to keep as a compact listpack', async () => {
    const store = asOfStore();
    const uuids = Array.from({ length: 5_000 }, () => randomUUID());
    for (let i = 0; i < uuids.length; i += 500)
      await Promise.all(uuids.slice(i, i + 500).map((u) => store.claim(u, T)));
    const keys = await allKeys();
    expect(keys.length).toBeGreaterThan(PERSON_AS_OF_BUCKETS * 0.95);
    expect(keys.every((k) => k.startsWith(`${prefix}:identity:asof:${COMPANY}:bucket:`))).toBe(true);
    const sizes = await Promise.all(keys.map((k) => redis.hlen(k)));
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(5_000);
    expect(Math.max(...sizes)).toBeLessThan(25);
    for (const k of keys.slice(0, 50)) expect(await redis.object('ENCODING', k)).toBe('listpack');
    // A uuid's bucket must never change (its entry would be lost): FNV-1a 32 of the uuid, mod 1,024.
    expect(personAsOfBucket('8f14e45f-ceea-467f-a0e6-cba8cf2e6a39')).toBe(2117989246 % 1024);
  });
});

describe('person as-of keys of earlier versions (one string per person, PX)', () => {
  it('is honoured: read, refused against, and moved into the bucket with its remaining TTL', async () => {
    const store = asOfStore();
    const uuid = randomUUID();
    await redis.set(legacyOf(uuid), String(T + HOUR), 'PX', 10 * DAY);
    expect(await store.get(uuid)).toBe(T + HOUR);
    expect(await redis.exists(legacyOf(uuid))).toBe(1);

    expect(await store.claim(uuid, T)).toEqual({ stale: true, last: T + HOUR });
    expect(await redis.exists(legacyOf(uuid))).toBe(0);
    const [asOf, expiresAt] = (await entry(uuid))!;
    expect(asOf).toBe(T + HOUR);
    // The old key's deadline, not a new TTL: a refused claim restarts nothing.
    expect(Math.abs(expiresAt! - (Date.now() + 10 * DAY))).toBeLessThan(5_000);
    expect(await store.claim(uuid, T)).toEqual({ stale: true, last: T + HOUR });
  });

  it('a later claim over an old key records the new as-of with a fresh TTL and deletes the key', async () => {
    const store = asOfStore(400 * DAY);
    const uuid = randomUUID();
    await redis.set(legacyOf(uuid), String(T), 'PX', DAY);
    expect(await store.claim(uuid, T + HOUR)).toEqual({ stale: false });
    expect(await redis.exists(legacyOf(uuid))).toBe(0);
    const [asOf, expiresAt] = (await entry(uuid))!;
    expect(asOf).toBe(T + HOUR);
    expect(Math.abs(expiresAt! - (Date.now() + 400 * DAY))).toBeLessThan(5_000);
  });

  it('an old key kept for ever (TTL 0 then) stays for ever in the bucket', async () => {
    const uuid = randomUUID();
    await redis.set(legacyOf(uuid), String(T + HOUR));
    expect(await asOfStore().claim(uuid, T)).toEqual({ stale: true, last: T + HOUR });
    expect(await redis.hget(bucketOf(uuid), uuid)).toBe(String(T + HOUR));
  });

  it('during a rolling upgrade the later of the two counts (an old worker may write the key after a new one wrote the bucket)', async () => {
    const store = asOfStore();
    const uuid = randomUUID();
    await store.claim(uuid, T);
    await redis.set(legacyOf(uuid), String(T + 2 * HOUR), 'PX', DAY);
    expect(await store.get(uuid)).toBe(T + 2 * HOUR);
    expect(await store.claim(uuid, T + HOUR)).toEqual({ stale: true, last: T + 2 * HOUR });
    expect(await store.get(uuid)).toBe(T + 2 * HOUR);
    // And an old key older than the bucket's entry is simply dropped.
    await redis.set(legacyOf(uuid), String(T), 'PX', DAY);
    expect(await store.claim(uuid, T + 3 * HOUR)).toEqual({ stale: false });
    expect(await redis.exists(legacyOf(uuid))).toBe(0);
    expect(await store.get(uuid)).toBe(T + 3 * HOUR);
  });
});
