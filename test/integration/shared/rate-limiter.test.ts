import { afterAll, describe, expect, it } from 'vitest';
import { SharedRateLimiter, UNLIMITED_RECHECK_MS } from '../../../src/shared/rate-limiter.ts';
import { countCommands, deletePrefix, testRedis, uniquePrefix } from '../../helpers/redis.ts';

const redis = testRedis();
const other = testRedis();
const prefix = uniquePrefix('rl');

afterAll(async () => {
  await deletePrefix(redis, prefix);
  await Promise.all([redis.quit(), other.quit()]);
});

describe('SharedRateLimiter', () => {
  it('lets a burst through, then spaces calls at the rate across connections', async () => {
    const key = `${prefix}:bucket-a`;
    const a = new SharedRateLimiter(redis, key, { rps: 20, burst: 5 });
    const b = new SharedRateLimiter(other, key, { rps: 20, burst: 5 });
    const started = Date.now();
    await Promise.all(Array.from({ length: 15 }, (_, i) => (i % 2 === 0 ? a : b).acquire()));
    // 5 from the burst, the other 10 need 10 / 20 s = 500 ms of refill (minus rounding).
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
  });

  it('a block from one process holds back the others, and never shortens', async () => {
    const key = `${prefix}:bucket-b`;
    const a = new SharedRateLimiter(redis, key, { rps: 0 });
    const b = new SharedRateLimiter(other, key, { rps: 0 });
    // Timed from before the block: on a loaded machine the calls between may take a while.
    const started = Date.now();
    expect(await a.block(300)).toBeGreaterThan(250);
    expect(await a.block(10)).toBeGreaterThan(0);
    await b.acquire();
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });

  it('asks once for every call of a process waiting at the same moment, and still spaces them at the rate', async () => {
    const conn = testRedis();
    try {
      const a = new SharedRateLimiter(conn, `${prefix}:bucket-d`, { rps: 20, burst: 5 });
      await a.acquire(); // defines the script: its load is not counted
      const sent = countCommands(conn);
      const started = Date.now();
      await Promise.all(Array.from({ length: 14 }, () => a.acquire()));
      // 4 left in the burst, then 10 at 20/s: ~500 ms, asked for in about one round trip per token.
      expect(Date.now() - started).toBeGreaterThanOrEqual(400);
      expect(sent.n).toBeGreaterThan(0);
      expect(sent.n).toBeLessThanOrEqual(12);
      // A burst of calls that all get a token at once: one round trip.
      await new Promise((r) => setTimeout(r, 300));
      const before = sent.n;
      await Promise.all(Array.from({ length: 5 }, () => a.acquire()));
      expect(sent.n - before).toBe(1);
    } finally {
      await conn.quit();
    }
  });

  it('with no limit, reads the block mark at most every UNLIMITED_RECHECK_MS, and honours a block set meanwhile', async () => {
    const conn = testRedis();
    try {
      const key = `${prefix}:bucket-e`;
      const a = new SharedRateLimiter(conn, key, { rps: 0 });
      const b = new SharedRateLimiter(other, key, { rps: 0 });
      await a.acquire();
      const sent = countCommands(conn);
      for (let i = 0; i < 20; i++) await a.acquire();
      expect(sent.n).toBe(0);
      // Another process is told 429: this one pauses once it looks again.
      await b.block(400);
      await new Promise((r) => setTimeout(r, UNLIMITED_RECHECK_MS + 10));
      const started = Date.now();
      await a.acquire();
      expect(Date.now() - started).toBeGreaterThanOrEqual(250);
      expect(sent.n).toBeGreaterThanOrEqual(1);
      // Its own 429 closes the way at once.
      await a.block(300);
      const again = Date.now();
      await a.acquire();
      expect(Date.now() - again).toBeGreaterThanOrEqual(250);
    } finally {
      await conn.quit();
    }
  });

  it('stops waiting when aborted', async () => {
    const key = `${prefix}:bucket-c`;
    const a = new SharedRateLimiter(redis, key, { rps: 0 });
    await a.block(5_000);
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('shutdown')), 50);
    await expect(a.acquire(controller.signal)).rejects.toThrow('shutdown');
  });
});
