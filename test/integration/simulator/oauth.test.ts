import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startSimulator, type StartedSimulator } from '../../helpers/simulator.ts';
import { call } from './http.ts';

let s: StartedSimulator;
beforeEach(async () => {
  s = await startSimulator({ knobs: { tokenLifetimeS: 60 } });
});
afterEach(async () => {
  await s.close();
});

function tokenRequest(form: Record<string, string>, client = true) {
  const { tenant } = s.sim.ctx;
  const body = new URLSearchParams({
    ...(client ? { client_id: tenant.clientId, client_secret: tenant.clientSecret } : {}),
    ...form,
  });
  return call(s.baseUrl, 'POST', '/oauth2/v0/token', {
    body: body.toString(),
    contentType: 'application/x-www-form-urlencoded',
  });
}
const passwordGrant = () =>
  tokenRequest({
    grant_type: 'password',
    username: s.sim.ctx.tenant.companyId,
    password: s.sim.ctx.tenant.requestToken,
    credtype: 'authtoken',
  });
const listUsers = (token: string) => call(s.baseUrl, 'GET', '/profile/identity/v4.1/Users', { token });

describe('POST /oauth2/v0/token', () => {
  it('password grant with credtype=authtoken returns a company token Concur-style', async () => {
    const res = await passwordGrant();
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ expires_in: '60', token_type: 'Bearer', geolocation: s.baseUrl });
    expect(typeof res.body.access_token).toBe('string');
    expect(typeof res.body.refresh_token).toBe('string');
    expect(typeof res.body.id_token).toBe('string');
    expect(typeof res.body.scope).toBe('string');
    expect((await listUsers(res.body.access_token)).status).toBe(200);
  });

  it('client_credentials returns an app token without refresh or id token, not accepted by Identity', async () => {
    const res = await tokenRequest({ grant_type: 'client_credentials' });
    expect(res.status).toBe(200);
    expect(res.body.refresh_token).toBeUndefined();
    expect(res.body.id_token).toBeUndefined();
    expect(res.body.expires_in).toBe('60');
    expect((await listUsers(res.body.access_token)).status).toBe(403);
  });

  it('refresh rotates: the new refresh token works, the old one answers code 108', async () => {
    const first = await passwordGrant();
    const refreshed = await tokenRequest({ grant_type: 'refresh_token', refresh_token: first.body.refresh_token });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.refresh_token).not.toBe(first.body.refresh_token);
    expect(refreshed.body.geolocation).toBe(s.baseUrl);
    expect((await listUsers(refreshed.body.access_token)).status).toBe(200);

    const reused = await tokenRequest({ grant_type: 'refresh_token', refresh_token: first.body.refresh_token });
    expect(reused.status).toBe(400);
    expect(reused.body).toEqual({
      error: 'invalid_grant',
      error_description: 'bad or expired refresh token',
      code: 108,
    });
    const again = await tokenRequest({ grant_type: 'refresh_token', refresh_token: refreshed.body.refresh_token });
    expect(again.status).toBe(200);
  });

  it('keeps the refresh token when rotation is off', async () => {
    await call(s.baseUrl, 'PATCH', '/_sim/config', { body: { rotateRefreshTokens: false } });
    const first = await passwordGrant();
    const refreshed = await tokenRequest({ grant_type: 'refresh_token', refresh_token: first.body.refresh_token });
    expect(refreshed.body.refresh_token).toBe(first.body.refresh_token);
    expect((await tokenRequest({ grant_type: 'refresh_token', refresh_token: first.body.refresh_token })).status).toBe(
      200,
    );
  });

  it('an expired refresh token answers code 108', async () => {
    const first = await passwordGrant();
    await call(s.baseUrl, 'POST', '/_sim/clock', { body: { advanceMs: 181 * 24 * 3600 * 1000 } });
    const res = await tokenRequest({ grant_type: 'refresh_token', refresh_token: first.body.refresh_token });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe(108);
  });

  // Concur's documented /token codes (docs/concur-api.md#token-errors).
  const company = { client_id: 'sim-client-id', client_secret: 'sim-client-secret' };
  const password = {
    ...company,
    grant_type: 'password',
    username: 'aa076ada-80a9-4f57-8e98-9300b1c3171d',
    password: 'sim-request-token',
    credtype: 'authtoken',
  };
  it.each([
    [
      'unknown client',
      { client_id: 'nope', client_secret: 'x', grant_type: 'client_credentials' },
      401,
      'invalid_client',
      61,
    ],
    [
      'wrong secret',
      { client_id: 'sim-client-id', client_secret: 'x', grant_type: 'client_credentials' },
      401,
      'invalid_client',
      64,
    ],
    ['no client_id', { client_secret: 'x', grant_type: 'client_credentials' }, 400, 'invalid_request', 62],
    ['no client_secret', { client_id: 'sim-client-id', grant_type: 'client_credentials' }, 400, 'invalid_request', 63],
    ['no grant_type', company, 400, 'invalid_request', 65],
    ['wrong request token', { ...password, password: 'bad' }, 400, 'invalid_grant', 5],
    ['wrong company', { ...password, username: 'other' }, 400, 'invalid_grant', 5],
    ['no username', { ...password, username: '' }, 400, 'invalid_request', 51],
    ['no password', { ...password, password: '' }, 400, 'invalid_request', 52],
    ['bad credtype', { ...password, credtype: 'magic' }, 400, 'invalid_request', 120],
    ['unknown grant', { ...company, grant_type: 'magic' }, 400, 'invalid_grant', 60],
    ['no refresh token', { ...company, grant_type: 'refresh_token' }, 400, 'invalid_request', 106],
    [
      'unknown refresh token',
      { ...company, grant_type: 'refresh_token', refresh_token: 'nope' },
      400,
      'invalid_grant',
      108,
    ],
    [
      'scope beyond the grant',
      { ...password, scope: 'identity.user.ids.read company.admin' },
      400,
      'invalid_scope',
      54,
    ],
  ])('%s', async (_name, form, status, error, code) => {
    const res = await tokenRequest(form as Record<string, string>, false);
    expect(res.status).toBe(status);
    expect(res.body).toMatchObject({ error, code });
    expect(typeof res.body.error_description).toBe('string');
  });

  it('a disabled client is refused with access_denied (code 59)', async () => {
    await call(s.baseUrl, 'PATCH', '/_sim/config', { body: { clientDisabled: true } });
    const res = await passwordGrant();
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ error: 'access_denied', error_description: 'client disabled', code: 59 });
  });

  it('a narrower scope is granted as asked', async () => {
    const res = await tokenRequest({
      grant_type: 'password',
      username: s.sim.ctx.tenant.companyId,
      password: s.sim.ctx.tenant.requestToken,
      credtype: 'authtoken',
      scope: 'identity.user.ids.read user.provision.read',
    });
    expect(res.status).toBe(200);
    expect(res.body.scope).toBe('identity.user.ids.read user.provision.read');
  });
});

describe('DELETE /app-mgmt/v0/connections', () => {
  it("revokes the app's refresh tokens for the company: the next refresh answers 108", async () => {
    const first = await passwordGrant();
    const second = await passwordGrant();
    const res = await call(s.baseUrl, 'DELETE', '/app-mgmt/v0/connections', { token: first.body.access_token });
    expect(res.status).toBe(200);
    for (const r of [first, second]) {
      const refused = await tokenRequest({ grant_type: 'refresh_token', refresh_token: r.body.refresh_token });
      expect(refused.status).toBe(400);
      expect(refused.body.code).toBe(108);
    }
    // The request token still works: a new connection starts.
    expect((await passwordGrant()).status).toBe(200);
  });

  it('needs a valid company access token', async () => {
    expect((await call(s.baseUrl, 'DELETE', '/app-mgmt/v0/connections', { token: 'nope' })).status).toBe(401);
  });
});

describe('bearer checks', () => {
  it('401 SCIM error for a missing or unknown token', async () => {
    for (const token of [undefined, 'not-a-token']) {
      const res = await call(s.baseUrl, 'GET', '/profile/identity/v4.1/Users', token ? { token } : {});
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({
        status: '401',
        schemas: expect.arrayContaining(['urn:ietf:params:scim:api:messages:2.0:Error']),
      });
    }
  });

  it('a token expires when the clock passes its lifetime, and the refresh grant recovers', async () => {
    const first = await passwordGrant();
    expect((await listUsers(first.body.access_token)).status).toBe(200);
    await call(s.baseUrl, 'POST', '/_sim/clock', { body: { advanceMs: 61_000 } });
    const expired = await listUsers(first.body.access_token);
    expect(expired.status).toBe(401);
    expect(expired.body.detail).toBe('Token expired');
    const refreshed = await tokenRequest({ grant_type: 'refresh_token', refresh_token: first.body.refresh_token });
    expect((await listUsers(refreshed.body.access_token)).status).toBe(200);
  });

  it('a 1 s token lifetime set at run time applies to new tokens', async () => {
    await call(s.baseUrl, 'PATCH', '/_sim/config', { body: { tokenLifetimeS: 1 } });
    const res = await passwordGrant();
    expect(res.body.expires_in).toBe('1');
    await call(s.baseUrl, 'POST', '/_sim/clock', { body: { advanceMs: 1000 } });
    expect((await listUsers(res.body.access_token)).status).toBe(401);
  });

  it('POST /_sim/tokens/expire expires every access token now', async () => {
    const token = await s.companyToken();
    const res = await call(s.baseUrl, 'POST', '/_sim/tokens/expire');
    expect(res.body.expired).toBeGreaterThanOrEqual(1);
    expect((await listUsers(token)).status).toBe(401);
    expect((await listUsers(await s.companyToken())).status).toBe(200);
  });
});
