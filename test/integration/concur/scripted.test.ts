import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { loadConfig } from '../../../src/shared/config.ts';
import { createLogger } from '../../../src/shared/logger.ts';
import { isProvError, type ProvError } from '../../../src/shared/errors.ts';
import { createConcurClient, type ConcurClient } from '../../../src/shared/concur/index.ts';
import { startScriptedServer, type ScriptStep, type ScriptedServer } from '../../helpers/scripted-server.ts';
import { deletePrefix, testRedis, uniquePrefix } from '../../helpers/redis.ts';

const USER_ID = '6a2d8e1c-9f3b-4b8e-8a52-3c1f0e7d9b21';
const okUser = {
  schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
  id: USER_ID,
  userName: 'u@example.com',
  active: true,
};

let redis: Redis;
const prefixes: string[] = [];
const servers: ScriptedServer[] = [];
const clients: ConcurClient[] = [];

beforeAll(() => {
  redis = testRedis();
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
  for (const p of prefixes.splice(0)) await deletePrefix(redis, p);
});
afterAll(async () => {
  await redis.quit();
});

interface Setup {
  server: ScriptedServer;
  client: ConcurClient;
  tokenRequests: () => number;
}

/** A scripted Concur whose token route always answers; API answers come from `steps`. */
async function setup(
  steps: ScriptStep[],
  opts: { timeoutMs?: number; tokens?: ScriptStep[]; trusted?: string[] } = {},
): Promise<Setup> {
  let issued = 0;
  const tokens = [...(opts.tokens ?? [])];
  const server: ScriptedServer = await startScriptedServer({
    steps,
    routes: {
      'POST /oauth2/v0/token': () => {
        issued += 1;
        return (
          tokens.shift() ?? {
            body: {
              access_token: `at-${issued}`,
              expires_in: '3600',
              refresh_token: `rt-${issued}`,
              geolocation: server.url,
            },
          }
        );
      },
    },
  });
  servers.push(server);
  const prefix = uniquePrefix('concur');
  prefixes.push(prefix);
  const config = loadConfig({
    QUEUE_PREFIX: prefix,
    CONCUR_BASE_URL: server.url,
    CONCUR_REQUEST_TOKEN: 'req-token-1',
    CONCUR_TIMEOUT_MS: String(opts.timeoutMs ?? 5_000),
    CONCUR_TRUSTED_ORIGINS: (opts.trusted ?? []).join(','),
  });
  const client = createConcurClient({ config, redis, log: createLogger({ level: 'silent' }) });
  clients.push(client);
  return { server, client, tokenRequests: () => server.requests.filter((r) => r.path === '/oauth2/v0/token').length };
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

describe('Concur client against a scripted server: classification', () => {
  it('429 with Retry-After in seconds is rate_limited with retryAfterMs', async () => {
    const { client } = await setup([{ status: 429, headers: { 'retry-after': '2' }, body: { status: '429' } }]);
    const err = await failure(client.identity.get(USER_ID));
    expect(err.code).toBe('PROV_ERR_RATE_LIMITED');
    expect(err.retryable).toBe(true);
    expect(err.details).toMatchObject({ kind: 'rate_limited', retryAfterMs: 2000, statusCode: 429 });
  });

  it('429 with Retry-After as an HTTP date counts down to that date', async () => {
    const at = new Date(Date.now() + 120_000).toUTCString();
    const { client } = await setup([{ status: 429, headers: { 'retry-after': at } }]);
    const err = await failure(client.identity.get(USER_ID));
    expect(err.code).toBe('PROV_ERR_RATE_LIMITED');
    const ms = err.details.retryAfterMs as number;
    expect(ms).toBeGreaterThan(60_000);
    expect(ms).toBeLessThanOrEqual(120_000);
  });

  it('429 with Retry-After: 0 (and the non-SCIM gateway body) is rate_limited with 0', async () => {
    const body = {
      httpStatus: '429 - Too Many Requests',
      error: { id: 'security.rate.limit.reached', message: 'Too many requests' },
    };
    const { client } = await setup([{ status: 429, headers: { 'retry-after': '0' }, body }]);
    const err = await failure(client.identity.get(USER_ID));
    expect(err.details).toMatchObject({ kind: 'rate_limited', retryAfterMs: 0 });
  });

  it('503 is retryable, and the correlation id of the answer is on the error', async () => {
    const { client, server } = await setup([
      {
        status: 503,
        headers: { 'concur-correlationid': 'corr-503' },
        body: { status: '503', detail: 'Service Unavailable' },
      },
    ]);
    const err = await failure(client.identity.get(USER_ID, { correlationId: 'ours-1' }));
    expect(err.code).toBe('PROV_ERR_RETRYABLE');
    expect(err.retryable).toBe(true);
    expect(err.details).toMatchObject({
      kind: 'retryable',
      statusCode: 503,
      correlationId: 'corr-503',
      detail: 'Service Unavailable',
    });
    const apiCall = server.requests.find((r) => r.path.startsWith('/profile/'));
    expect(apiCall?.headers['concur-correlationid']).toBe('ours-1');
  });

  it('an answer that never comes is a retryable headers timeout', async () => {
    const { client } = await setup([{ hang: true }], { timeoutMs: 300 });
    const err = await failure(client.identity.get(USER_ID));
    expect(err.code).toBe('PROV_ERR_RETRYABLE');
    expect(err.details).toMatchObject({ kind: 'retryable', errorCode: 'UND_ERR_HEADERS_TIMEOUT' });
  });

  it('a body that stops half way is a retryable body timeout', async () => {
    const { client } = await setup([{ hangBody: true, body: okUser }], { timeoutMs: 300 });
    const err = await failure(client.identity.get(USER_ID));
    expect(err.code).toBe('PROV_ERR_RETRYABLE');
    expect(err.details).toMatchObject({ kind: 'retryable', errorCode: 'UND_ERR_BODY_TIMEOUT' });
  });

  it('a reset socket is retryable', async () => {
    const { client } = await setup([{ destroy: true }]);
    const err = await failure(client.identity.get(USER_ID));
    expect(err.code).toBe('PROV_ERR_RETRYABLE');
    expect(err.details.kind).toBe('retryable');
    expect(['UND_ERR_SOCKET', 'ECONNRESET']).toContain(err.details.errorCode);
  });

  it('a body cut short of its Content-Length is retryable', async () => {
    const { client } = await setup([{ body: okUser, truncateAt: 10 }]);
    const err = await failure(client.identity.get(USER_ID));
    expect(err.code).toBe('PROV_ERR_RETRYABLE');
    expect(err.details.kind).toBe('retryable');
  });

  it('a 200 that is not JSON is PROV_ERR_RESPONSE', async () => {
    const { client } = await setup([
      { body: '<html>gateway says hi</html>', headers: { 'content-type': 'text/html' } },
    ]);
    const err = await failure(client.identity.get(USER_ID));
    expect(err.code).toBe('PROV_ERR_RESPONSE');
    expect(err.details).toMatchObject({ kind: 'response', statusCode: 200 });
  });

  it('a 200 missing a required field is PROV_ERR_RESPONSE naming the field', async () => {
    const { client } = await setup([
      {
        body: {
          schemas: ['urn:ietf:params:scim:api:messages:concur:2.0:Provision:Status'],
          id: 'p-1',
          status: { completed: false },
        },
      },
    ]);
    const err = await failure(client.status.getStatus('p-1'));
    expect(err.code).toBe('PROV_ERR_RESPONSE');
    expect(err.message).toContain('operationsCount');
    expect(err.details.issues).toEqual([expect.objectContaining({ path: 'operationsCount' })]);
  });

  it('a 409 uniqueness body is a conflict with the SCIM detail', async () => {
    const body = {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
      status: '409',
      scimType: 'uniqueness',
      detail: "Principal with lookup type 'companyId,employeeNumber' with provided value already exists",
    };
    const { client } = await setup([{ status: 409, body }]);
    const err = await failure(client.identity.create({ userName: 'x@example.com' }));
    expect(err.code).toBe('PROV_ERR_CONFLICT');
    expect(err.retryable).toBe(false);
    expect(err.details).toMatchObject({
      kind: 'conflict',
      scimType: 'uniqueness',
      detail: body.detail,
      statusCode: 409,
    });
  });

  it('a 400 with Concur messages is invalid with the schemaPath', async () => {
    const body = {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:Error', 'urn:ietf:params:scim:api:messages:concur:2.0:Error'],
      status: '400',
      scimType: 'invalidValue',
      'urn:ietf:params:scim:api:messages:concur:2.0:Error': {
        messages: [{ code: 'INVALID_VALUE', message: 'Invalid Value', schemaPath: 'name.givenName', type: 'error' }],
      },
    };
    const { client } = await setup([{ status: 400, body }]);
    const err = await failure(client.identity.create({ userName: 'x@example.com' }));
    expect(err.code).toBe('PROV_ERR_INVALID');
    expect(err.details).toMatchObject({ kind: 'invalid', schemaPath: 'name.givenName', scimType: 'invalidValue' });
    expect(err.details.messages).toEqual([expect.objectContaining({ code: 'INVALID_VALUE' })]);
    expect(err.message).toContain('Invalid Value');
  });

  it('404 is not_found', async () => {
    const { client } = await setup([{ status: 404, body: { status: '404', detail: 'User not found' } }]);
    const err = await failure(client.identity.get(USER_ID));
    expect(err.code).toBe('PROV_ERR_NOT_FOUND');
    expect(err.details.kind).toBe('not_found');
  });
});

describe('Concur client against a scripted server: auth', () => {
  it('a 401 refreshes the token once and retries with the new one', async () => {
    const { client, server, tokenRequests } = await setup([{ status: 401, body: { status: '401' } }, { body: okUser }]);
    const user = await client.identity.get(USER_ID);
    expect(user.id).toBe(USER_ID);
    expect(tokenRequests()).toBe(2);
    const apiCalls = server.requests.filter((r) => r.path.startsWith('/profile/'));
    expect(apiCalls.map((r) => r.headers.authorization)).toEqual(['Bearer at-1', 'Bearer at-2']);
    // The second grant used the refresh token of the first; the first used the request token.
    const grants = server.requests.filter((r) => r.path === '/oauth2/v0/token').map((r) => new URLSearchParams(r.body));
    expect(grants[0]?.get('grant_type')).toBe('password');
    expect(grants[0]?.get('credtype')).toBe('authtoken');
    expect(grants[1]?.get('grant_type')).toBe('refresh_token');
    expect(grants[1]?.get('refresh_token')).toBe('rt-1');
  });

  it('a second 401 after the refresh is a retryable auth error (the job retries; no row fails for it)', async () => {
    const { client, tokenRequests } = await setup([{ status: 401 }, { status: 401 }]);
    const err = await failure(client.identity.get(USER_ID));
    expect(err.code).toBe('PROV_ERR_AUTH');
    expect(err.details).toMatchObject({ kind: 'auth', tokenRejected: true, statusCode: 401 });
    expect(err.retryable).toBe(true);
    expect(err.details.tokenRefused).toBeUndefined();
    expect(tokenRequests()).toBe(2);
  });

  it('code 16 moves the token request to the geolocation Concur names, and every later call with it', async () => {
    const moved = await startScriptedServer({
      steps: [{ body: okUser }],
      routes: {
        'POST /oauth2/v0/token': () => ({
          body: { access_token: 'at-moved', expires_in: '3600', refresh_token: 'rt-moved', geolocation: moved.url },
        }),
      },
    });
    servers.push(moved);
    const { client, server } = await setup([], {
      trusted: [moved.url],
      tokens: [
        {
          status: 400,
          body: {
            error: 'invalid_request',
            error_description: 'user lives elsewhere',
            code: 16,
            geolocation: moved.url,
          },
        },
      ],
    });
    expect((await client.identity.get(USER_ID)).id).toBe(USER_ID);
    expect(server.requests.map((r) => r.path)).toEqual(['/oauth2/v0/token']);
    expect(moved.requests.map((r) => [r.path, r.headers.authorization ?? ''])).toEqual([
      ['/oauth2/v0/token', ''],
      [`/profile/identity/v4.1/Users/${USER_ID}`, 'Bearer at-moved'],
    ]);
    // The same grant went to the new data center (the request token, not a made-up credential).
    expect(new URLSearchParams(moved.requests[0]!.body).get('password')).toBe('req-token-1');
  });

  it('every credential refused: a tokenRefused error, recorded once for the metric and status', async () => {
    const refused = {
      status: 400,
      body: { error: 'invalid_grant', error_description: 'bad or expired refresh token', code: 108 },
    };
    const { client } = await setup([{ body: okUser }], {
      tokens: [
        { body: { access_token: 'at-1', expires_in: '1', refresh_token: 'rt-1' } },
        refused,
        {
          status: 400,
          body: { error: 'invalid_grant', error_description: 'Incorrect Credentials. Please Retry', code: 5 },
        },
      ],
    });
    expect((await client.identity.get(USER_ID)).id).toBe(USER_ID);
    await new Promise((r) => setTimeout(r, 1100));
    const err = await failure(client.identity.get(USER_ID));
    expect(err.details).toMatchObject({ kind: 'auth', tokenRefused: true, oauthCode: 108 });
    expect(err.message).toContain('CONCUR_REQUEST_TOKEN');
  });

  it('a 403 is auth without a refresh', async () => {
    const { client, tokenRequests } = await setup([{ status: 403 }]);
    const err = await failure(client.identity.get(USER_ID));
    expect(err.code).toBe('PROV_ERR_AUTH');
    expect(tokenRequests()).toBe(1);
  });

  it('a refused grant is PROV_ERR_AUTH with the OAuth error, not the credentials', async () => {
    const { client } = await setup([], {
      tokens: [
        {
          status: 400,
          body: { error: 'invalid_grant', error_description: 'Incorrect Credentials. Please Retry', code: 5 },
        },
      ],
    });
    const err = await failure(client.identity.get(USER_ID));
    expect(err.code).toBe('PROV_ERR_AUTH');
    expect(err.details).toMatchObject({ kind: 'auth', oauthError: 'invalid_grant', oauthCode: 5, tokenRefused: true });
    expect(JSON.stringify(err.toJSON()) + err.message).not.toContain('req-token-1');
  });

  it('API calls go to the geolocation the token names', async () => {
    const geo = await startScriptedServer({ steps: [{ body: okUser }] });
    servers.push(geo);
    const { client, server } = await setup([], {
      trusted: [geo.url],
      tokens: [{ body: { access_token: 'at-geo', expires_in: '3600', refresh_token: 'rt-geo', geolocation: geo.url } }],
    });
    const user = await client.identity.get(USER_ID);
    expect(user.id).toBe(USER_ID);
    expect(server.requests.map((r) => r.path)).toEqual(['/oauth2/v0/token']);
    expect(geo.requests.map((r) => [r.path, r.headers.authorization])).toEqual([
      [`/profile/identity/v4.1/Users/${USER_ID}`, 'Bearer at-geo'],
    ]);
  });
});
