import { vi } from 'vitest';
import type { KnobsInput } from '../../../src/simulator/knobs.ts';
import { startSimulator, type StartedSimulator } from '../../helpers/simulator.ts';

// Shared by the UPS / Bulk / status / read-back / ESS simulator tests (not a test file itself).

export const CORE = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
export const SPEND = 'urn:ietf:params:scim:schemas:extension:spend:2.0:User';
export const ROLE = 'urn:ietf:params:scim:schemas:extension:spend:2.0:Role';
export const APPROVER = 'urn:ietf:params:scim:schemas:extension:spend:2.0:Approver';
export const DELEGATE = 'urn:ietf:params:scim:schemas:extension:spend:2.0:Delegate';
export const TRAVEL = 'urn:ietf:params:scim:schemas:extension:travel:2.0:User';
export const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
export const BULK = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';
export const STATUS = 'urn:ietf:params:scim:schemas:extension:concur:2.0:Provision:Status';

/** Every URN a status operation reports, in order. */
export const ALL_URNS = [
  CORE,
  ENTERPRISE,
  SPEND,
  ROLE,
  APPROVER,
  'urn:ietf:params:scim:schemas:extension:spend:2.0:ApproverLimit',
  DELEGATE,
  'urn:ietf:params:scim:schemas:extension:spend:2.0:UserPreference',
  'urn:ietf:params:scim:schemas:extension:spend:2.0:WorkflowPreference',
  'urn:ietf:params:scim:schemas:extension:spend:2.0:InvoicePreference',
  'urn:ietf:params:scim:schemas:extension:enterprise:2.0:Payroll',
  TRAVEL,
];

export type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface Response {
  status: number;
  headers: Headers;
  body: Json;
}

export interface UpsHarness {
  started: StartedSimulator;
  baseUrl: string;
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Response>;
  /** Polls the status URL (detailed) until `completed`; returns the detailed body. */
  waitCompleted(statusUrl: string): Promise<Json>;
  /** `attributes=operations` of a status URL with extra query parameters. */
  detail(statusUrl: string, query?: Record<string, string | number>): Promise<Response>;
  /** Advances the simulated clock and takes a fresh token (the old one may have expired). */
  advanceClock(ms: number): Promise<void>;
  close(): Promise<void>;
}

export async function startUps(knobs: KnobsInput = {}): Promise<UpsHarness> {
  // advanceClock takes a fresh token with the request token, also after days of simulated time.
  const started = await startSimulator({
    knobs: { extensionDelayMs: 0, requestTokenLifetimeS: 365 * 24 * 3600, ...knobs },
  });
  let token = await started.companyToken();
  const call = async (
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Response> => {
    const url = path.startsWith('http') ? path : `${started.baseUrl}${path}`;
    const res = await fetch(url, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text === '' ? {} : (JSON.parse(text) as Json) };
  };
  const detail = (statusUrl: string, query: Record<string, string | number> = {}): Promise<Response> => {
    const qs = new URLSearchParams({
      attributes: 'operations',
      ...Object.fromEntries(Object.entries(query).map(([k, v]) => [k, String(v)])),
    });
    return call('GET', `${statusUrl}?${qs.toString()}`);
  };
  const waitCompleted = async (statusUrl: string): Promise<Json> => {
    let last: Json = {};
    await vi.waitFor(
      async () => {
        last = (await detail(statusUrl, { count: 1000 })).body;
        if (last.status?.completed !== true)
          throw new Error(`provision still pending: ${JSON.stringify(last.operationsCount)}`);
      },
      { timeout: 20_000, interval: 20 },
    );
    return last;
  };
  const advanceClock = async (ms: number): Promise<void> => {
    const res = await call('POST', '/_sim/clock', { advanceMs: ms });
    if (res.status !== 200) throw new Error(`clock advance failed: ${res.status}`);
    token = await started.companyToken();
  };
  return { started, baseUrl: started.baseUrl, call, waitCompleted, detail, advanceClock, close: () => started.close() };
}

let seq = 0;

/** A valid identity User for UPS / Bulk, with a unique userName and the given employee number. */
export function identityUser(employeeNumber: string, extra: Json = {}): Json {
  seq += 1;
  const userName = `ups.user.${employeeNumber}.${seq}.${Date.now()}@example.com`;
  return {
    schemas: [CORE, ENTERPRISE],
    userName,
    active: true,
    name: { givenName: 'Test', familyName: `User${employeeNumber}` },
    emails: [{ value: userName, type: 'work' }],
    [ENTERPRISE]: { employeeNumber },
    ...extra,
  };
}

export const validSpend = (extra: Json = {}): Json => ({
  reimbursementCurrency: 'USD',
  country: 'US',
  locale: 'en-US',
  ...extra,
});

/** The extension entry of one operation by URN. */
export function ext(operation: Json, urn: string): Json {
  const found = (operation.extensions as Json[]).find((e) => e.name === urn);
  if (!found) throw new Error(`no extension ${urn} in ${JSON.stringify(operation.extensions)}`);
  return found;
}

/** A one-operation-per-user Bulk body of POSTs. */
export function bulkOf(users: Json[]): Json {
  return {
    schemas: [BULK],
    failOnErrors: 1,
    Operations: users.map((data, i) => ({ method: 'POST', path: '/Users', bulkId: `b${i + 1}`, data })),
  };
}
