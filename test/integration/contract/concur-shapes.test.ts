import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { z } from 'zod';
import { startScriptedServer, type ScriptedServer } from '../../helpers/scripted-server.ts';
import { startSimulator, type StartedSimulator } from '../../helpers/simulator.ts';
import * as ref from './reference-schemas.ts';

/*
 * Every response the pipeline reads, taken from the simulator over HTTP and held against the
 * shapes SAP publishes (reference-schemas.ts, written from the docs, not from our client). When
 * the simulator drifts from Concur's contract, this fails; docs/concur-api.md says where each
 * shape comes from.
 */

let s: StartedSimulator;
let receiver: ScriptedServer;
beforeAll(async () => {
  s = await startSimulator({ knobs: { extensionDelayMs: 0 } });
  receiver = await startScriptedServer({ fallback: () => ({ status: 200 }) });
});
afterAll(async () => {
  await s.close();
  await receiver.close();
});

interface Res {
  status: number;
  headers: Headers;
  body: unknown;
}

async function http(
  method: string,
  path: string,
  options: { token?: string; json?: unknown; form?: Record<string, string> } = {},
): Promise<Res> {
  const headers: Record<string, string> = {};
  let body: string | undefined;
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.json);
  } else if (options.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(options.form).toString();
  }
  const url = path.startsWith('http') ? path : `${s.baseUrl}${path}`;
  const res = await fetch(url, { method, headers, body });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text === '' ? undefined : JSON.parse(text) };
}

/** Parses with the reference schema; a mismatch names every path that differs. */
function conforms<S extends z.ZodType>(schema: S, res: Res, status: number): z.output<S> {
  expect(res.status).toBe(status);
  // Concur puts a correlation id on every answer.
  expect(res.headers.get('concur-correlationid')).toBeTruthy();
  const parsed = schema.safeParse(res.body);
  if (!parsed.success) {
    throw new Error(
      `response does not match the published shape:\n${parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n')}\n${JSON.stringify(res.body, null, 2).slice(0, 3000)}`,
    );
  }
  return parsed.data;
}

const tenant = () => s.sim.ctx.tenant;
const client = () => ({ client_id: tenant().clientId, client_secret: tenant().clientSecret });
const passwordGrant = () =>
  http('POST', '/oauth2/v0/token', {
    form: {
      ...client(),
      grant_type: 'password',
      username: tenant().companyId,
      password: tenant().requestToken,
      credtype: 'authtoken',
    },
  });

let seq = 0;
function newUser(extra: Record<string, unknown> = {}): Record<string, unknown> {
  seq += 1;
  const userName = `contract.${seq}.${Date.now()}@example.com`;
  return {
    schemas: [ref.CORE, ref.ENTERPRISE],
    userName,
    active: true,
    name: { givenName: 'Contract', familyName: `Person${seq}` },
    emails: [{ value: userName, type: 'work' }],
    [ref.ENTERPRISE]: { employeeNumber: `C-${seq}-${Date.now()}`, startDate: '2020-01-15T00:00:00Z' },
    ...extra,
  };
}

describe('OAuth', () => {
  it('password, refresh and client-credentials grants answer the documented token response', async () => {
    const first = conforms(ref.tokenResponse, await passwordGrant(), 200);
    const refreshed = await http('POST', '/oauth2/v0/token', {
      form: { ...client(), grant_type: 'refresh_token', refresh_token: first.refresh_token },
    });
    conforms(ref.tokenResponse, refreshed, 200);
    conforms(
      ref.appTokenResponse,
      await http('POST', '/oauth2/v0/token', { form: { ...client(), grant_type: 'client_credentials' } }),
      200,
    );
  });

  it('refusals answer {error, error_description, code} with a documented error value', async () => {
    const refused = conforms(
      ref.oauthError,
      await http('POST', '/oauth2/v0/token', {
        form: { ...client(), grant_type: 'refresh_token', refresh_token: 'stale' },
      }),
      400,
    );
    expect(refused.code).toBe(108);
    conforms(
      ref.oauthError,
      await http('POST', '/oauth2/v0/token', { form: { client_id: 'x', client_secret: 'y', grant_type: 'password' } }),
      401,
    );
  });
});

describe('Identity v4.1', () => {
  let token: string;
  beforeAll(async () => {
    token = ((await passwordGrant()).body as { access_token: string }).access_token;
  });

  it('create, get, patch and replace answer the User resource', async () => {
    const created = conforms(
      ref.identityUser,
      await http('POST', '/profile/identity/v4.1/Users', { token, json: newUser() }),
      200,
    );
    conforms(ref.identityUser, await http('GET', `/profile/identity/v4.1/Users/${created.id}`, { token }), 200);
    const patched = conforms(
      ref.identityUser,
      await http('PATCH', `/profile/identity/v4.1/Users/${created.id}`, {
        token,
        json: {
          schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
          Operations: [{ op: 'replace', path: 'active', value: false }],
        },
      }),
      200,
    );
    expect(patched.meta.version).toBe(created.meta.version + 1);
    const { id, meta: _meta, ...body } = created as Record<string, unknown>;
    conforms(
      ref.identityUser,
      await http('PUT', `/profile/identity/v4.1/Users/${String(id)}`, { token, json: body }),
      200,
    );
  });

  it('.search answers a ListResponse with a cursor while more pages follow', async () => {
    for (let i = 0; i < 3; i += 1) await http('POST', '/profile/identity/v4.1/Users', { token, json: newUser() });
    const page = conforms(
      ref.userList,
      await http('POST', '/profile/identity/v4.1/Users/.search', {
        token,
        json: { schemas: ['urn:ietf:params:scim:api:messages:concur:2.0:SearchRequest'], count: 2 },
      }),
      200,
    );
    expect(page.nextCursor).toBeDefined();
    for (const user of page.Resources) ref.identityUser.parse(user);
    conforms(ref.userList, await http('GET', '/profile/identity/v4.1/Users?count=1', { token }), 200);
  });

  it('errors answer the SCIM error with Concur messages: 400, 401, 404, 409, 429', async () => {
    const bad = conforms(
      ref.scimError,
      await http('POST', '/profile/identity/v4.1/Users', { token, json: { userName: 'x' } }),
      400,
    );
    expect(bad[ref.CONCUR_ERROR]?.messages.length).toBeGreaterThan(0);
    conforms(ref.scimError, await http('GET', '/profile/identity/v4.1/Users', { token: 'stale' }), 401);
    conforms(ref.scimError, await http('GET', `/profile/identity/v4.1/Users/${crypto.randomUUID()}`, { token }), 404);
    const user = newUser();
    await http('POST', '/profile/identity/v4.1/Users', { token, json: user });
    const taken = conforms(
      ref.scimError,
      await http('POST', '/profile/identity/v4.1/Users', { token, json: user }),
      409,
    );
    expect(taken.scimType).toBe('uniqueness');
    await http('PATCH', '/_sim/config', { json: { identityRps: 1, burstSeconds: 1 } });
    try {
      let limited: Res | undefined;
      for (let i = 0; i < 5 && !limited; i += 1) {
        const res = await http('GET', '/profile/identity/v4.1/Users?count=1', { token });
        if (res.status === 429) limited = res;
      }
      conforms(ref.scimError, limited!, 429);
      expect(Number(limited!.headers.get('retry-after'))).toBeGreaterThanOrEqual(0);
    } finally {
      await http('PATCH', '/_sim/config', { json: { identityRps: 0 } });
    }
  });
});

describe('UPS v4 and ESS', () => {
  let token: string;
  beforeAll(async () => {
    token = ((await passwordGrant()).body as { access_token: string }).access_token;
  });

  it('Bulk answers 202 with the provision summary; the status detail lists every operation and extension', async () => {
    const target = conforms(
      ref.identityUser,
      await http('POST', '/profile/identity/v4.1/Users', { token, json: newUser() }),
      200,
    );
    const accepted = conforms(
      ref.provisionSummary,
      await http('POST', '/profile/v4/Bulk', {
        token,
        json: {
          schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
          Operations: [
            {
              method: 'PATCH',
              path: `/Users/${target.id}`,
              bulkId: 'contract-1',
              data: {
                schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
                Operations: [
                  {
                    op: 'add',
                    value: {
                      'urn:ietf:params:scim:schemas:extension:spend:2.0:User': {
                        reimbursementCurrency: 'USD',
                        country: 'US',
                        locale: 'en-US',
                      },
                      'urn:ietf:params:scim:schemas:extension:spend:2.0:Role': { roles: [{ roleName: 'NOT_A_ROLE' }] },
                    },
                  },
                ],
              },
            },
          ],
        },
      }),
      202,
    );
    expect(accepted.status).toEqual({ completed: false, success: null });
    let detail: z.output<typeof ref.provisionDetail> | undefined;
    await vi.waitFor(
      async () => {
        detail = conforms(
          ref.provisionDetail,
          await http('GET', `${accepted.meta.location}?attributes=operations`, { token }),
          200,
        );
        if (!detail.status.completed) throw new Error('still pending');
      },
      { timeout: 10_000, interval: 50 },
    );
    expect(detail!.operations[0]!.bulkId).toBe('contract-1');
    const role = detail!.operations[0]!.extensions.find((e) => e.name.endsWith(':Role'));
    expect(role?.status.result).toBe('error');
    conforms(ref.provisionSummary, await http('GET', accepted.meta.location, { token }), 200);
  });

  it('POST /Users answers 201 with provisionId and statusUrl; provisionCompleted arrives in the documented envelope', async () => {
    const appToken = (
      (await http('POST', '/oauth2/v0/token', { form: { ...client(), grant_type: 'client_credentials' } })).body as {
        access_token: string;
      }
    ).access_token;
    conforms(
      ref.essMessage,
      await http('PUT', '/events/v4/subscriptions/webhook', {
        token: appToken,
        json: {
          id: 'contract.provisioning',
          topic: 'public.concur.user.provisioning',
          filter: 'provisionCompleted',
          webHookConfig: { endpoint: `${receiver.url}/hook` },
        },
      }),
      200,
    );
    const created = conforms(ref.upsUser, await http('POST', '/profile/v4/Users', { token, json: newUser() }), 201);
    await vi.waitFor(
      () => {
        if (!receiver.requests.some((r) => r.body.includes(created.meta.provisionId))) throw new Error('no event yet');
      },
      { timeout: 10_000, interval: 50 },
    );
    const delivery = receiver.requests.find((r) => r.body.includes(created.meta.provisionId))!;
    const event = ref.provisionCompletedEvent.parse(JSON.parse(delivery.body));
    expect(event.facts.provisionId).toBe(created.meta.provisionId);
    expect(delivery.headers['concur-signature']).toBeTruthy();
    expect(delivery.headers['concur-correlationid']).toBe(event.correlationId);
  });
});
