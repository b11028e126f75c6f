import { IDENTITY_USERS } from '../../shared/concur/identity.ts';
import { fail, notChecked, pass, reasonOf, warn, type Check } from './check.ts';
import { concurCall, concurMessage, type DoctorEnv } from './env.ts';

// Reads only: one page of Identity v4.1, one `.search`, UPS discovery (docs/concur-api.md). Each
// answers "can the workers do their job with this token?" without writing anything.

const SEARCH_REQUEST_URN = 'urn:ietf:params:scim:api:messages:2.0:SearchRequest';
const TRAVEL_URN = 'urn:ietf:params:scim:schemas:extension:travel:2.0:User';
const NO_TOKEN = 'no company token (token.grant)';
const ok = (status: number): boolean => status >= 200 && status < 300;

/** What to do about a refused read: scopes for 401/403, patience for 429/5xx. */
function readAdvice(status: number, scope: string): string {
  if (status === 401 || status === 403)
    return `the token lacks ${scope} or the company is not enabled for this API: check the app's scopes (docs/going-live.md#app-registration-and-scopes)`;
  if (status === 429 || status >= 500) return 'Concur is busy or down: run doctor again in a few minutes';
  return 'unexpected answer: check CONCUR_BASE_URL';
}

export async function identityChecks(env: DoctorEnv): Promise<Check[]> {
  if (!env.token) return [notChecked('identity.read', NO_TOKEN), notChecked('identity.search', NO_TOKEN)];
  const checks: Check[] = [];
  try {
    const res = await concurCall(env, { method: 'GET', path: IDENTITY_USERS, query: { count: 1 } });
    const total = (res.body as { totalResults?: unknown } | undefined)?.totalResults;
    checks.push(
      ok(res.status)
        ? pass(
            'identity.read',
            `GET Identity v4.1 /Users?count=1 answered${typeof total === 'number' ? `: ${total} people` : ''}`,
          )
        : fail(
            'identity.read',
            `GET Identity v4.1 /Users: ${concurMessage(res)}: ${readAdvice(res.status, 'identity.user.core.read')}`,
          ),
    );
  } catch (err) {
    checks.push(
      fail('identity.read', `GET Identity v4.1 /Users: ${reasonOf(err)}: check that this machine reaches Concur`),
    );
  }
  try {
    // A filter that matches nobody: the search path and its scopes, no personal data in the answer.
    const res = await concurCall(env, {
      method: 'POST',
      path: `${IDENTITY_USERS}/.search`,
      json: { schemas: [SEARCH_REQUEST_URN], filter: 'userName eq "provision-doctor@example.invalid"', count: 1 },
    });
    checks.push(
      ok(res.status)
        ? pass('identity.search', 'POST Identity v4.1 /Users/.search with a filter answered: rows can be matched')
        : fail(
            'identity.search',
            `POST /Users/.search: ${concurMessage(res)}: ${readAdvice(res.status, 'identity.user.ids.read')}`,
          ),
    );
  } catch (err) {
    checks.push(fail('identity.search', `POST /Users/.search: ${reasonOf(err)}`));
  }
  return checks;
}

export async function upsChecks(env: DoctorEnv): Promise<Check[]> {
  if (!env.token) return [notChecked('ups.reachable', NO_TOKEN), notChecked('travel.extension', NO_TOKEN)];
  try {
    const res = await concurCall(env, { method: 'GET', path: '/profile/v4/Schemas' });
    if (!ok(res.status)) {
      return [
        fail(
          'ups.reachable',
          `GET UPS /profile/v4/Schemas: ${concurMessage(res)}: ${res.status === 401 || res.status === 403 ? 'ask SAP Concur to enable the User Provisioning Service for the company, and give the app user.provision.read and user.provision.write' : readAdvice(res.status, 'user.provision.read')}`,
        ),
        notChecked('travel.extension', 'UPS did not answer (ups.reachable)'),
      ];
    }
    const ids = schemaIds(res.body);
    return [pass('ups.reachable', `UPS v4 answered with ${ids.length} schemas`), travelCheck(ids)];
  } catch (err) {
    return [
      fail('ups.reachable', `GET UPS /profile/v4/Schemas: ${reasonOf(err)}`),
      notChecked('travel.extension', 'UPS did not answer (ups.reachable)'),
    ];
  }
}

function schemaIds(body: unknown): string[] {
  const resources = (body as { Resources?: unknown } | undefined)?.Resources;
  return Array.isArray(resources)
    ? resources.map((r) => (r as { id?: unknown }).id).filter((id): id is string => typeof id === 'string')
    : [];
}

function travelCheck(ids: string[]): Check {
  if (ids.includes(TRAVEL_URN))
    return pass('travel.extension', 'UPS offers the Travel extension: travel.* columns can be sent');
  return warn(
    'travel.extension',
    'UPS offers no Travel extension: rows with travel.* columns will fail; leave those columns out or ask SAP Concur to enable Travel',
  );
}

/** Beyond this the webhook's 15 minutes of allowed skew are used up (WEBHOOK_MAX_AGE_MS). */
const SKEW_FAIL_MS = 15 * 60 * 1000;
/** `Date` has whole seconds and the call takes time: below this it is noise. */
const SKEW_WARN_MS = 10_000;

export function clockCheck(env: DoctorEnv): Check {
  if (!env.dated)
    return env.token
      ? warn('clock.skew', 'Concur sent no Date header: not checked')
      : notChecked('clock.skew', NO_TOKEN);
  const theirs = Date.parse(env.dated.date);
  if (Number.isNaN(theirs))
    return warn('clock.skew', `Concur's Date header '${env.dated.date}' is not a date: not checked`);
  const ours = (env.dated.sentAt + env.dated.receivedAt) / 2;
  const skew = ours - theirs;
  const seconds = Math.round(Math.abs(skew) / 1000);
  const words = `this machine's clock is ${seconds} s ${skew > 0 ? 'ahead of' : 'behind'} Concur's`;
  if (Math.abs(skew) <= SKEW_WARN_MS) return pass('clock.skew', `within ${Math.max(1, seconds)} s of Concur's clock`);
  if (Math.abs(skew) <= SKEW_FAIL_MS)
    return warn('clock.skew', `${words}: token expiry and webhook ages are judged by it; turn on NTP`);
  return fail('clock.skew', `${words}: webhook events will be refused as too old or too new; turn on NTP and restart`);
}
