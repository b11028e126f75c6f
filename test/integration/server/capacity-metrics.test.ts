import { afterEach, describe, expect, it } from 'vitest';
import { startServer, TEST_AUTH, type ServerHarness } from '../../helpers/server.ts';

let h: ServerHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function scrape(harness: ServerHarness): Promise<string> {
  const res = await fetch(`${harness.url}/metrics`, { headers: { authorization: `Bearer ${TEST_AUTH.metricsToken}` } });
  expect(res.status).toBe(200);
  return res.text();
}

const value = (text: string, series: string): number => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? NaN : Number(line.slice(series.length + 1));
};

describe('/metrics: queue age and Redis memory', () => {
  it('reports how long the oldest runnable job of each queue has waited, 0 for an empty queue', async () => {
    h = await startServer();
    await h.queues.identity.add('identity', { dropId: 'd', rows: [1] }, { timestamp: Date.now() - 90_000 });
    await h.queues.identity.add('identity', { dropId: 'd', rows: [2] });
    // Delayed: not runnable yet, so not waiting.
    await h.queues.status.add('status', { provisionId: 'p', batchId: 'b', submittedAt: 0 }, { delay: 60_000 });
    const text = await scrape(h);
    expect(value(text, 'provision_queue_oldest_waiting_seconds{queue="identity"}')).toBeGreaterThanOrEqual(90);
    expect(value(text, 'provision_queue_oldest_waiting_seconds{queue="identity"}')).toBeLessThan(120);
    expect(value(text, 'provision_queue_oldest_waiting_seconds{queue="extension"}')).toBe(0);
    expect(value(text, 'provision_queue_oldest_waiting_seconds{queue="status"}')).toBe(0);
  });

  it("reports Redis's used memory and its limit", async () => {
    h = await startServer();
    const info = String(await h.redis.info('memory'));
    const max = Number(/^maxmemory:(\d+)/m.exec(info)![1]);
    const text = await scrape(h);
    expect(value(text, 'provision_redis_memory_used_bytes')).toBeGreaterThan(100_000);
    expect(value(text, 'provision_redis_memory_max_bytes')).toBe(max);
  });
});
