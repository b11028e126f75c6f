import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { loadConfig, type Config } from '../../../src/shared/config.ts';
import { createConcurClient, tokenKey, type ConcurClient } from '../../../src/shared/concur/index.ts';
import { sharedTokenStore, tokenSealerFor } from '../../../src/shared/concur/client.ts';
import { isTokenRefused } from '../../../src/shared/concur/errors.ts';
import { readTokenRefusal } from '../../../src/shared/concur/token-cache.ts';
import { isProvError, type ProvError } from '../../../src/shared/errors.ts';
import { createLogger } from '../../../src/shared/logger.ts';
import { deletePrefix, testRedis, uniquePrefix } from '../../helpers/redis.ts';
import { startScriptedServer, type ScriptedServer } from '../../helpers/scripted-server.ts';
import { startSimulator, type StartedSimulator } from '../../helpers/simulator.ts';

/*
 * The token store under attack (docs/security.md#the-concur-token-in-redis): whoever writes Redis
 * plants a geolocation of their own, or Concur's answers name one; an attacker's HTTP server on
 * port 0 must receive nothing at all. The record in Redis holds no token in clear, and a record
 * sealed with another key pauses processing with a clear error. Real Redis, the real simulator.
 */

let redis: Redis;
let sim: StartedSimulator;
let attacker: ScriptedServer;
const servers: ScriptedServer[] = [];
let prefix: string;
const clients: ConcurClient[] = [];

beforeAll(async () => {
  redis = testRedis();
  sim = await startSimulator();
});
afterAll(async () => {
  await sim.close();
  await redis.quit();
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
  await deletePrefix(redis, prefix);
  await fetch(`${sim.baseUrl}/_sim/config`, {
    method: 'PATCH',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ relocateTo: '' }),
  });
});

async function setup(env: Record<string, string> = {}): Promise<{ client: ConcurClient; config: Config; key: string }> {
  prefix = uniquePrefix('hostile-token');
  // The attacker answers everything like Concur would, so a leak would also "work".
  attacker = await startScriptedServer({
    fallback: () => ({ body: { access_token: 'evil', expires_in: '3600', refresh_token: 'evil-rt' } }),
  });
  servers.push(attacker);
  const config = loadConfig({ QUEUE_PREFIX: prefix, CONCUR_BASE_URL: sim.baseUrl, ...env });
  const client = createConcurClient({ config, redis, log: createLogger({ level: 'silent' }) });
  clients.push(client);
  return { client, config, key: tokenKey(prefix, config.CONCUR_CLIENT_ID, config.CONCUR_COMPANY_ID) };
}

async function failure(p: Promise<unknown>): Promise<ProvError> {
  try {
    await p;
  } catch (err) {
    if (isProvError(err)) return err;
    throw err;
  }
  throw new Error('expected the call to fail');
}

const search = async (client: ConcurClient): Promise<number> => {
  let n = 0;
  for await (const page of client.identity.searchPages({ count: 10 })) n += page.users.length;
  return n;
};

/** A real company token from the simulator: its refresh token is what an old clear record held. */
async function simToken(): Promise<{ access_token: string; refresh_token: string }> {
  const { tenant } = sim.sim.ctx;
  const res = await fetch(`${sim.baseUrl}/oauth2/v0/token`, {
    method: 'POST',
    body: new URLSearchParams({
      client_id: tenant.clientId,
      client_secret: tenant.clientSecret,
      grant_type: 'password',
      username: tenant.companyId,
      password: tenant.requestToken,
      credtype: 'authtoken',
    }),
  });
  return (await res.json()) as { access_token: string; refresh_token: string };
}

const simTokenRequests = async (): Promise<number> => {
  const stats = (await (await fetch(`${sim.baseUrl}/_sim/stats`)).json()) as {
    routes: Record<string, Record<string, number>>;
  };
  return Object.values(stats.routes['POST /oauth2/v0/token'] ?? {}).reduce((a, b) => a + b, 0);
};

describe('a geolocation that is not Concur receives nothing', () => {
  it('a record planted in Redis (the pre-sealing clear format) pointing at an attacker: refused, paused, nothing sent', async () => {
    const { client, config, key } = await setup();
    const far = String(Date.now() + 3_600_000);
    await redis.hset(key, {
      accessToken: 'planted-access',
      refreshToken: 'planted-refresh',
      geolocation: attacker.url,
      expiresAt: far,
      refreshAt: far,
    });
    const tokenCallsBefore = await simTokenRequests();

    const err = await failure(search(client));
    expect(err.code).toBe('PROV_ERR_UNTRUSTED_HOST');
    expect(isTokenRefused(err)).toBe(true);
    expect(err.message).toContain(new URL(attacker.url).origin);
    expect(attacker.requests).toEqual([]);
    // Nor did the secret go anywhere else meanwhile.
    expect(await simTokenRequests()).toBe(tokenCallsBefore);
    // Paused like a refused token: what /metrics and `provision status` read.
    const refusal = await readTokenRefusal(redis, prefix, config.CONCUR_CLIENT_ID, config.CONCUR_COMPANY_ID);
    expect(refusal?.message).toContain('stored in Redis');
  });

  it('a code 16 answer naming an attacker as the new data center: refused, nothing sent there', async () => {
    const { client } = await setup();
    await fetch(`${sim.baseUrl}/_sim/config`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ relocateTo: attacker.url }),
    });
    const err = await failure(search(client));
    expect(err.code).toBe('PROV_ERR_UNTRUSTED_HOST');
    expect(err.message).toContain('code 16');
    expect(isTokenRefused(err)).toBe(true);
    expect(attacker.requests).toEqual([]);
  });

  it('a token answer whose geolocation is an attacker: the token is never used, nothing sent there', async () => {
    const concur = await startScriptedServer({
      routes: {
        'POST /oauth2/v0/token': () => ({
          body: { access_token: 'at-1', expires_in: '3600', refresh_token: 'rt-1', geolocation: attacker.url },
        }),
      },
    });
    try {
      prefix = uniquePrefix('hostile-token');
      attacker = await startScriptedServer({ fallback: () => ({ body: {} }) });
      servers.push(attacker);
      const config = loadConfig({ QUEUE_PREFIX: prefix, CONCUR_BASE_URL: concur.url });
      const client = createConcurClient({ config, redis, log: createLogger({ level: 'silent' }) });
      clients.push(client);
      const err = await failure(client.identity.get('6a2d8e1c-9f3b-4b8e-8a52-3c1f0e7d9b21'));
      expect(err.code).toBe('PROV_ERR_UNTRUSTED_HOST');
      expect(attacker.requests).toEqual([]);
      expect(concur.requests.map((r) => r.path)).toEqual(['/oauth2/v0/token']);
      // Nothing stored: the next process does not pick the token up either.
      expect(await redis.exists(tokenKey(prefix, config.CONCUR_CLIENT_ID, config.CONCUR_COMPANY_ID))).toBe(0);
    } finally {
      await concur.close();
    }
  });

  it('https://*.concursolutions.com and CONCUR_BASE_URL are trusted; look-alikes are not', async () => {
    const { TrustedHosts } = await import('../../../src/shared/concur/trusted-hosts.ts');
    const hosts = new TrustedHosts('http://127.0.0.1:4010', ['http://127.0.0.1:4011']);
    for (const ok of [
      'https://us.api.concursolutions.com',
      'https://emea.api.concursolutions.com/some/prefix',
      'http://127.0.0.1:4010',
      'http://127.0.0.1:4011/',
    ])
      expect(hosts.trusts(ok), ok).toBe(true);
    for (const bad of [
      'http://us.api.concursolutions.com',
      'https://us.api.concursolutions.com:8443',
      'https://concursolutions.com.evil.example',
      'https://evilconcursolutions.com',
      'https://user:pw@us.api.concursolutions.com',
      'http://127.0.0.1:4012',
      'http://localhost:4010',
      'file:///etc/passwd',
      'not a url',
    ])
      expect(hosts.trusts(bad), bad).toBe(false);
  });
});

describe('the record in Redis is sealed', () => {
  it('holds neither the access token nor the refresh token, in any field or in its dump', async () => {
    const { client, config, key } = await setup();
    expect(await search(client)).toBe(0);
    const store = sharedTokenStore(redis, config);
    const token = await store.read();
    expect(token?.accessToken).toBeTruthy();
    expect(token?.refreshToken).toBeTruthy();
    const fields = await redis.hgetall(key);
    expect(Object.keys(fields).sort()).toEqual(['refreshTag', 'sealed']);
    const bytes = Buffer.concat([(await redis.dumpBuffer(key))!, Buffer.from(JSON.stringify(fields))]);
    for (const secret of [token!.accessToken, token!.refreshToken!, config.CONCUR_CLIENT_SECRET]) {
      expect(bytes.includes(Buffer.from(secret)), 'a secret in Redis').toBe(false);
    }
    // Sealed under a new random IV each time: the same token never looks the same twice.
    const sealer = tokenSealerFor(config);
    expect(sealer.seal(token!, key)).not.toBe(sealer.seal(token!, key));
  });

  it('a record stored in clear before sealing is used once (its refresh token) and re-written sealed', async () => {
    const { client, config, key } = await setup();
    const old = await simToken();
    const far = String(Date.now() + 3_600_000);
    await redis.hset(key, {
      accessToken: old.access_token,
      refreshToken: old.refresh_token,
      geolocation: sim.baseUrl,
      expiresAt: far,
      refreshAt: far,
    });
    expect(await search(client)).toBe(0);
    const fields = await redis.hgetall(key);
    expect(Object.keys(fields).sort()).toEqual(['refreshTag', 'sealed']);
    const store = sharedTokenStore(redis, config);
    const token = await store.read();
    // The access token in clear was never trusted: a new one replaced it.
    expect(token?.accessToken).not.toBe(old.access_token);
    expect(JSON.stringify(fields)).not.toContain(token!.accessToken);
  });

  it('a record sealed with another key: PROV_ERR_TOKEN_KEY, paused, no secret sent', async () => {
    const keyA = randomBytes(32).toString('base64');
    const keyB = randomBytes(32).toString('hex');
    const a = await setup({ TOKEN_ENCRYPTION_KEY: keyA });
    expect(await search(a.client)).toBe(0);
    const tokenCalls = await simTokenRequests();
    const b = createConcurClient({
      config: loadConfig({ QUEUE_PREFIX: prefix, CONCUR_BASE_URL: sim.baseUrl, TOKEN_ENCRYPTION_KEY: keyB }),
      redis,
      log: createLogger({ level: 'silent' }),
    });
    clients.push(b);
    const err = await failure(search(b));
    expect(err.code).toBe('PROV_ERR_TOKEN_KEY');
    expect(err.message).toContain('TOKEN_ENCRYPTION_KEY');
    expect(isTokenRefused(err)).toBe(true);
    expect(await simTokenRequests()).toBe(tokenCalls);
    const refusal = await readTokenRefusal(redis, prefix, a.config.CONCUR_CLIENT_ID, a.config.CONCUR_COMPANY_ID);
    expect(refusal?.message).toContain('does not open with TOKEN_ENCRYPTION_KEY');
    // An altered record fails the same way, even for the right key.
    await redis.hset(a.key, 'sealed', 'v1.altered');
    const again = createConcurClient({ config: a.config, redis, log: createLogger({ level: 'silent' }) });
    clients.push(again);
    expect((await failure(search(again))).code).toBe('PROV_ERR_TOKEN_KEY');
  });
});
