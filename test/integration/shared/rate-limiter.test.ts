import { afterAll, describe, expect, it } from 'vitest';
import { SharedRateLimiter } from '../../../src/shared/rate-limiter.ts';
import { deletePrefix, testRedis, uniquePrefix } from '../../helpers/redis.ts';

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
    expect(await a.block(300)).toBeGreaterThan(250);
    expect(await a.block(10)).toBeGreaterThan(200);
    const started = Date.now();
    await b.acquire();
    expect(Date.now() - started).toBeGreaterThanOrEqual(200);
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
