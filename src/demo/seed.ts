import { SIM_DEFAULTS } from '../shared/config.ts';
import { ProvError } from '../shared/errors.ts';
import type { EmployeeImportPerson } from './employee-import.ts';
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

const SPEND_USER = 'urn:ietf:params:scim:schemas:extension:spend:2.0:User';

/** A legacy-import person as Concur holds them before the file: identity, a fax, and a spend user. */
export function existingEmployeeImportBody(p: EmployeeImportPerson, companyId: string): Record<string, unknown> {
  const customData = [
    ...(p.custom1 ? [{ id: 'custom1', value: p.custom1 }] : []),
    ...(p.orgUnit1 ? [{ id: 'orgUnit1', value: p.orgUnit1 }] : []),
  ];
  return {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
    userName: p.userName,
    active: true,
    name: { givenName: p.givenName, familyName: p.familyName, ...(p.middleName ? { middleName: p.middleName } : {}) },
    emails: [{ value: p.email, type: 'work' }],
    phoneNumbers: [{ value: '+1 206 555 0100', type: 'fax' }],
    'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': { employeeNumber: p.employeeNumber, companyId },
    [SPEND_USER]: {
      country: p.country,
      reimbursementCurrency: p.currency,
      locale: p.locale,
      ledgerCode: p.ledgerCode,
      ...(p.stateProvince ? { stateProvince: p.stateProvince } : {}),
      ...(p.cashAdvanceAccountCode ? { cashAdvanceAccountCode: p.cashAdvanceAccountCode } : {}),
      ...(customData.length > 0 ? { customData } : {}),
    },
  };
}

/**
 * People of a legacy employee import who exist in Concur before it (UPS creates, so their spend
 * user exists too); waits until Concur has applied every one.
 */
export async function seedEmployeeImportPeople(
  simUrl: string,
  people: readonly EmployeeImportPerson[],
  creds: SimCredentials = SIM_DEFAULTS,
): Promise<void> {
  if (people.length === 0) return;
  const token = await simulatorToken(simUrl, creds);
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const pending: string[] = [];
  for (const p of people) {
    const res = await fetch(`${simUrl}/profile/v4/Users`, {
      method: 'POST',
      headers,
      body: JSON.stringify(existingEmployeeImportBody(p, creds.companyId)),
    });
    const body = (await res.json()) as { meta?: { provisionId?: string } };
    if (res.status === 409) continue;
    if (res.status !== 201 || !body.meta?.provisionId)
      throw new ProvError('PROV_ERR_INTERNAL', `simulator refused a seed user (${res.status})`);
    pending.push(body.meta.provisionId);
  }
  const deadline = Date.now() + 30_000;
  for (const id of pending) {
    for (;;) {
      const res = await fetch(`${simUrl}/profile/v4/provisions/${id}/status`, { headers });
      const body = (await res.json()) as { status?: { completed?: boolean } };
      if (res.ok && body.status?.completed === true) break;
      if (Date.now() > deadline) throw new ProvError('PROV_ERR_INTERNAL', `seed provision ${id} did not complete`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
