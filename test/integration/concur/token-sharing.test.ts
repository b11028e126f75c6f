import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { loadConfig, type Config } from '../../../src/shared/config.ts';
import { createLogger } from '../../../src/shared/logger.ts';
import { createConcurClient, tokenKey, type ConcurClient } from '../../../src/shared/concur/index.ts';
import { sharedTokenStore } from '../../../src/shared/concur/client.ts';
import { startScriptedServer, type ScriptedServer } from '../../helpers/scripted-server.ts';
import { deletePrefix, testRedis, uniquePrefix } from '../../helpers/redis.ts';

const USER_ID = '0f5a3c9e-2b71-4d7a-9e43-51c8a2f6b0d4';

/**
 * A strict token endpoint like Concur's: every refresh rotates the refresh token and the old one
 * stops working, and the API accepts only the newest access token. A double refresh would show
 * up as a refused grant.
 */
class StrictConcur {
  server!: ScriptedServer;
  issued = 0;
  refused = 0;
  access: string | undefined;
  refresh: string | undefined;

  async start(): Promise<this> {
    this.server = await startScriptedServer({
      routes: {
        'POST /oauth2/v0/token': (req) => {
          const form = new URLSearchParams(req.body);
          const ok =
            form.get('grant_type') === 'password'
              ? form.get('password') === 'req-token'
              : form.get('refresh_token') === this.refresh;
          if (!ok) {
            this.refused += 1;
            return {
              status: 400,
              body: { error: 'invalid_grant', error_description: 'bad or expired refresh token', code: 108 },
            };
          }
          this.issued += 1;
          this.access = `at-${this.issued}`;
          this.refresh = `rt-${this.issued}`;
          return {
            body: {
              access_token: this.access,
              expires_in: '3600',
              refresh_token: this.refresh,
              geolocation: this.server.url,
            },
          };
        },
      },
      fallback: (req) =>
        req.headers.authorization === `Bearer ${this.access}` && this.access !== undefined
          ? { body: { id: USER_ID, userName: 'u@example.com' } }
          : { status: 401, body: { status: '401' } },
    });
    return this;
  }

  /** Server-side expiry of every access token (refresh token stays valid). */
  expireAccess(): void {
    this.access = undefined;
  }
}

let redis: Redis;
let prefix: string;
let concur: StrictConcur;
let clients: ConcurClient[] = [];
let config: Config;

beforeAll(() => {
  redis = testRedis();
});
afterEach(async () => {
  await Promise.all(clients.map((c) => c.close()));
  clients = [];
  await concur.server.close();
  await deletePrefix(redis, prefix);
});
afterAll(async () => {
  await redis.quit();
});

/** Clients with their own pools and token providers (as separate processes would have), one Redis. */
async function start(n: number, env: Record<string, string> = {}): Promise<void> {
  concur = await new StrictConcur().start();
  prefix = uniquePrefix('token');
  config = loadConfig({
    QUEUE_PREFIX: prefix,
    CONCUR_BASE_URL: concur.server.url,
    CONCUR_REQUEST_TOKEN: 'req-token',
    ...env,
  });
  clients = Array.from({ length: n }, () =>
    createConcurClient({ config, redis, log: createLogger({ level: 'silent' }) }),
  );
}

/** The shared token as the store opens it, and the raw hash Redis holds (sealed: no token in it). */
async function stored(): Promise<{ token: unknown; raw: string }> {
  const key = tokenKey(prefix, config.CONCUR_CLIENT_ID, config.CONCUR_COMPANY_ID);
  const store = sharedTokenStore(redis, config);
  return { token: await store.read(), raw: JSON.stringify(await redis.hgetall(key)) };
}

const burst = (perClient: number): Promise<unknown[]> =>
  Promise.all(clients.flatMap((c) => Array.from({ length: perClient }, () => c.identity.get(USER_ID))));

describe('one company token shared through Redis', () => {
  it('many clients starting at once ask for one token', async () => {
    await start(4);
    const users = await burst(5);
    expect(users).toHaveLength(20);
    expect(concur.issued).toBe(1);
    const { token, raw } = await stored();
    expect(token).toMatchObject({ accessToken: 'at-1', refreshToken: 'rt-1', geolocation: concur.server.url });
    expect(raw).not.toMatch(/at-1|rt-1/);
  });

  it('after a server-side expiry, all clients recover with a single refresh (no refused grant)', async () => {
    await start(4);
    await burst(1);
    concur.expireAccess();
    const users = await burst(5);
    expect(users).toHaveLength(20);
    expect(concur.issued).toBe(2);
    expect(concur.refused).toBe(0);
    const { token, raw } = await stored();
    expect(token).toMatchObject({ accessToken: 'at-2', refreshToken: 'rt-2' });
    expect(raw).not.toMatch(/at-2|rt-2/);
  });

  it('a refresh uses the latest stored refresh token, not the one it started with', async () => {
    await start(2);
    await clients[0]!.identity.get(USER_ID);
    // Rotate twice through client 0; client 1 must pick up rt-3, not the configured or first one.
    concur.expireAccess();
    await clients[0]!.identity.get(USER_ID);
    concur.expireAccess();
    await clients[0]!.identity.get(USER_ID);
    concur.expireAccess();
    await clients[1]!.identity.get(USER_ID);
    expect(concur.issued).toBe(4);
    expect(concur.refused).toBe(0);
  });

  it('a configured refresh token that was already rotated falls back to the request token', async () => {
    await start(1, { CONCUR_REFRESH_TOKEN: 'rt-stale' });
    const user = await clients[0]!.identity.get(USER_ID);
    expect(user.id).toBe(USER_ID);
    expect(concur.refused).toBe(1);
    expect(concur.issued).toBe(1);
  });
});
