import { SIM_DEFAULTS } from '../shared/config.ts';
import { ProvError } from '../shared/errors.ts';
import { existingUserBody, type DemoRecord } from './generate.ts';

/** The simulator tenant's credentials (SIM_* config, or the defaults every local run uses). */
export interface SimCredentials {
  clientId: string;
  clientSecret: string;
  companyId: string;
  requestToken: string;
}

/** A company token from the simulator (password grant with `credtype=authtoken`). */
export async function simulatorToken(simUrl: string, creds: SimCredentials = SIM_DEFAULTS): Promise<string> {
  const res = await fetch(`${simUrl}/oauth2/v0/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      client_id: creds.clientId,
      client_secret: creds.clientSecret,
      grant_type: 'password',
      username: creds.companyId,
      password: creds.requestToken,
      credtype: 'authtoken',
    }),
  });
  const token = ((await res.json()) as { access_token?: string }).access_token;
  if (!token) throw new ProvError('PROV_ERR_AUTH', `simulator token request failed (${res.status})`);
  return token;
}

/**
 * People who exist in Concur before the drop (so the drop updates and deactivates some), created
 * through Identity v4.1. A 409 (already there, e.g. a re-run) is fine.
 */
export async function seedExistingPeople(
  simUrl: string,
  people: readonly DemoRecord[],
  creds: SimCredentials = SIM_DEFAULTS,
): Promise<void> {
  if (people.length === 0) return;
  const token = await simulatorToken(simUrl, creds);
  for (const p of people) {
    const res = await fetch(`${simUrl}/profile/identity/v4.1/Users`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(existingUserBody(p, creds.companyId)),
    });
    await res.arrayBuffer();
    if (res.status !== 201 && res.status !== 200 && res.status !== 409)
      throw new ProvError('PROV_ERR_INTERNAL', `simulator refused a seed user (${res.status})`);
  }
}
