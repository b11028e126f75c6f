import { isProvError } from '../../shared/errors.ts';
import { oauthCodeOf } from '../../shared/concur/errors.ts';
import { fail, notChecked, pass, reasonOf, warn, type Check } from './check.ts';
import type { DoctorEnv } from './env.ts';
import { oauthAdvice } from './oauth-advice.ts';

// The company token (docs/going-live.md#the-company-request-token): obtained the way the workers
// obtain it (the shared token in Redis, else the refresh token, else the request token), then the
// request token on its own, then where Concur says the company lives.

const CONCUR_HOST = /(^|\.)concursolutions\.com$/i;
/** Codes that refuse the app itself, whatever the grant (docs/concur-api.md#authentication). */
const CLIENT_REFUSALS = new Set([59, 61, 62, 63, 64]);
const LOCAL_HOST = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/i;

export function baseUrlCheck(env: DoctorEnv): Check {
  const url = new URL(env.config.CONCUR_BASE_URL);
  if (LOCAL_HOST.test(url.hostname))
    return pass(
      'concur.base-url',
      `${url.origin}: a local Concur (the simulator); for a real company use its data center`,
    );
  if (url.protocol !== 'https:')
    return fail('concur.base-url', `${url.origin}: Concur answers on https only; fix CONCUR_BASE_URL`);
  if (!CONCUR_HOST.test(url.hostname))
    return warn(
      'concur.base-url',
      `${url.origin} is not a concursolutions.com host: check CONCUR_BASE_URL (e.g. https://us2.api.concursolutions.com)`,
    );
  return pass('concur.base-url', `${url.origin}`);
}

function until(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** `token.grant` and `token.refresh-token`: the shared token, as a worker would get it. */
export async function grantChecks(env: DoctorEnv): Promise<Check[]> {
  // A stored token we must not use is reported by the grant below, with its own code.
  const before = env.redisUp ? await env.store.read().catch(() => undefined) : undefined;
  try {
    env.token = await env.concur.auth.current();
  } catch (err) {
    const code = oauthCodeOf(err);
    const last = env.grants.at(-1)?.grant ?? 'any';
    const detail =
      isProvError(err, 'PROV_ERR_TOKEN_KEY') || isProvError(err, 'PROV_ERR_UNTRUSTED_HOST')
        ? `${err.code}: ${err.message}`
        : isProvError(err, 'PROV_ERR_AUTH')
          ? `Concur refused every credential${code === undefined ? '' : ` (code ${code})`}: ${oauthAdvice(code, last)}`
          : `${reasonOf(err)}: check CONCUR_BASE_URL and that this machine reaches Concur`;
    return [fail('token.grant', detail), refreshCheck(env, undefined)];
  }
  const t = env.token;
  const used = env.grants.find((g) => g.ok);
  const how =
    used?.grant === 'password'
      ? 'obtained from the request token'
      : used?.grant === 'refresh_token'
        ? 'renewed by the refresh token'
        : before?.accessToken === t.accessToken
          ? 'obtained earlier'
          : 'obtained';
  const where = env.redisUp ? 'shared in Redis' : 'kept in this process only (Redis is down)';
  return [
    pass('token.grant', `company token ${how}, valid until ${until(t.expiresAt)}, ${where}`),
    refreshCheck(env, t.refreshToken),
  ];
}

function refreshCheck(env: DoctorEnv, stored: string | undefined): Check {
  const refresh = env.grants.filter((g) => g.grant === 'refresh_token');
  const refused = refresh.find((g) => !g.ok);
  const worked = refresh.some((g) => g.ok);
  if (worked)
    return pass('token.refresh-token', 'Concur took the refresh token and gave a new one, stored for every process');
  if (refused) {
    const advice = oauthAdvice(refused.oauthCode, 'refresh_token');
    return env.token
      ? warn(
          'token.refresh-token',
          `Concur refused the refresh token (code ${refused.oauthCode ?? '?'}); the request token took over, ${advice}`,
        )
      : fail('token.refresh-token', `Concur refused the refresh token (code ${refused.oauthCode ?? '?'}): ${advice}`);
  }
  if (stored)
    return pass(
      'token.refresh-token',
      'a refresh token is stored: it renews the access token hourly (each refresh may bring a new one, good for 6 months)',
    );
  if (!env.token) return notChecked('token.refresh-token', 'no company token (token.grant)');
  return warn(
    'token.refresh-token',
    'Concur gave no refresh token: every renewal needs the request token, which dies 24 h after it was generated',
  );
}

/** `token.request-token`: CONCUR_REQUEST_TOKEN on its own (the password grant; nothing is stored). */
export async function requestTokenCheck(env: DoctorEnv): Promise<Check> {
  const { config } = env;
  const tried = env.grants.find((g) => g.grant === 'password');
  if (tried?.ok) return pass('token.request-token', 'Concur took CONCUR_REQUEST_TOKEN for this company');
  if (tried)
    return fail(
      'token.request-token',
      `Concur refused CONCUR_REQUEST_TOKEN (code ${tried.oauthCode ?? '?'}): ${oauthAdvice(tried.oauthCode, 'password')}`,
    );
  if (!config.CONCUR_REQUEST_TOKEN)
    return env.token
      ? pass(
          'token.request-token',
          'not set: the stored refresh token carries on (keep the admin page at hand if it dies)',
        )
      : fail('token.request-token', 'not set and no working refresh token: set CONCUR_REQUEST_TOKEN');
  const res = await env.http.request({
    method: 'POST',
    baseUrl: env.token?.geolocation ?? config.CONCUR_BASE_URL,
    path: '/oauth2/v0/token',
    form: {
      client_id: config.CONCUR_CLIENT_ID,
      client_secret: config.CONCUR_CLIENT_SECRET,
      grant_type: 'password',
      username: config.CONCUR_COMPANY_ID,
      password: config.CONCUR_REQUEST_TOKEN,
      credtype: 'authtoken',
    },
  });
  if (res.status >= 200 && res.status < 300)
    return pass(
      'token.request-token',
      'Concur takes CONCUR_REQUEST_TOKEN for this company (valid 24 h from when it was generated)',
    );
  const code = (res.body as { code?: unknown } | undefined)?.code;
  const n = typeof code === 'number' ? code : typeof code === 'string' ? Number(code) : undefined;
  // A refused client (id, secret, disabled app) breaks the next hourly renewal too: always a fail.
  // A refused request token with a working shared token matters only once the refresh token dies.
  const status = env.token && !CLIENT_REFUSALS.has(n ?? -1) ? warn : fail;
  return status(
    'token.request-token',
    `Concur refused CONCUR_REQUEST_TOKEN (HTTP ${res.status}, code ${n ?? '?'}): ${oauthAdvice(n, 'password')}`,
  );
}

/** `token.geolocation`: where Concur says the company lives, against CONCUR_BASE_URL. */
export function geolocationCheck(env: DoctorEnv): Check {
  if (!env.token) return notChecked('token.geolocation', 'no company token (token.grant)');
  let geo: URL;
  try {
    geo = new URL(env.token.geolocation);
  } catch {
    return fail(
      'token.geolocation',
      `Concur gave an unusable geolocation '${env.token.geolocation}': contact SAP Concur`,
    );
  }
  const base = new URL(env.config.CONCUR_BASE_URL);
  const plausible = LOCAL_HOST.test(geo.hostname) || (geo.protocol === 'https:' && CONCUR_HOST.test(geo.hostname));
  if (!plausible)
    return fail(
      'token.geolocation',
      `${geo.origin} is not a Concur data center: check CONCUR_BASE_URL points at Concur, not a proxy that rewrites answers`,
    );
  if (geo.origin !== base.origin)
    return warn(
      'token.geolocation',
      `the company lives at ${geo.origin}, CONCUR_BASE_URL is ${base.origin}: every call follows the geolocation, but set CONCUR_BASE_URL=${geo.origin}`,
    );
  return pass('token.geolocation', `${geo.origin}, the same as CONCUR_BASE_URL`);
}
