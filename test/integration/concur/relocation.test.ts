import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { loadConfig, type Config } from '../../../src/shared/config.ts';
import { createConcurClient, RedisTokenStore, type ConcurClient } from '../../../src/shared/concur/index.ts';
import { tokenSealerFor } from '../../../src/shared/concur/client.ts';
import { createLogger } from '../../../src/shared/logger.ts';
import { deletePrefix, testRedis, uniquePrefix } from '../../helpers/redis.ts';
import { startSimulator, type StartedSimulator } from '../../helpers/simulator.ts';
import { startTcpProxy, type TcpProxy } from '../../helpers/tcp-proxy.ts';

/*
 * The company moves data center mid-run (simulator knob relocateTo; the simulator behind a TCP
 * proxy stands for the new one): the old data center refuses the token (401) and the token
 * endpoint there answers code 16 with the new geolocation. The client moves its stored
 * geolocation and carries on, without losing the (rotating) refresh token.
 */

let sim: StartedSimulator;
let proxy: TcpProxy;
let redis: Redis;
let client: ConcurClient;
let prefix: string;
let config: Config;

beforeEach(async () => {
  sim = await startSimulator();
  proxy = await startTcpProxy(sim.baseUrl);
  redis = testRedis();
  prefix = uniquePrefix('reloc');
  // The new data center is another origin: an operator lists it (docs/security.md).
  config = loadConfig({ QUEUE_PREFIX: prefix, CONCUR_BASE_URL: sim.baseUrl, CONCUR_TRUSTED_ORIGINS: proxy.url });
  client = createConcurClient({ config, redis, log: createLogger({ level: 'silent' }) });
});
afterEach(async () => {
  await client.close();
  await proxy.close();
  await sim.close();
  await deletePrefix(redis, prefix);
  await redis.quit();
});

const search = async (): Promise<number> => {
  let n = 0;
  for await (const page of client.identity.searchPages({ count: 10 })) n += page.users.length;
  return n;
};

describe('code 16: the company lives elsewhere', () => {
  it('moves the stored geolocation to the new data center and goes on there', async () => {
    expect(await search()).toBe(0);
    const store = new RedisTokenStore({
      redis,
      prefix,
      clientId: sim.sim.ctx.tenant.clientId,
      companyId: sim.sim.ctx.tenant.companyId,
      sealer: tokenSealerFor(config),
    });
    expect((await store.read())?.geolocation).toBe(sim.baseUrl);

    await fetch(`${sim.baseUrl}/_sim/config`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ relocateTo: proxy.url }),
    });
    // The request token is gone: the move must go through the (rotating) refresh token.
    await fetch(`${sim.baseUrl}/_sim/request-token`, { method: 'POST' });

    expect(await search()).toBe(0);
    const moved = await store.read();
    expect(moved?.geolocation).toBe(proxy.url);
    const stats = (await (await fetch(`${sim.baseUrl}/_sim/stats`)).json()) as {
      routes: Record<string, Record<string, number>>;
    };
    // One 401 at the old data center, one code 16 there, then a refresh at the new one.
    expect(stats.routes['POST /profile/identity/v4.1/Users/.search']?.['401']).toBe(1);
    expect(stats.routes['POST /oauth2/v0/token']).toMatchObject({ '200': 2, '400': 1 });
    expect(await search()).toBe(0);
    expect((await store.read())?.accessToken).toBe(moved?.accessToken);
  });
});
