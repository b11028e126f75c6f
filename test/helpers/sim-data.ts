import type { DropRecord } from './drops.ts';
import type { StartedSimulator } from './simulator.ts';

/** What tests read back from the simulator: Concur's state and its request counters. */
export const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

export interface SimUser {
  id: string;
  userName: string;
  active: boolean;
  name: { givenName: string; familyName: string };
  [ENT]: { employeeNumber: string; department?: string; manager?: { value: string } };
  meta?: { version?: string | number; lastModified?: string };
}

export type SimStats = { routes: Record<string, Record<string, number>> };

export async function simUsers(sim: StartedSimulator): Promise<SimUser[]> {
  const res = await fetch(`${sim.baseUrl}/_sim/state`);
  return ((await res.json()) as { users: SimUser[] }).users;
}

export async function simStats(sim: StartedSimulator): Promise<SimStats> {
  return (await (await fetch(`${sim.baseUrl}/_sim/stats`)).json()) as SimStats;
}

/** Identity requests counted by the simulator, optionally only those answered with `status`. */
export function identityCalls(stats: SimStats, status?: string): number {
  let n = 0;
  for (const [route, statuses] of Object.entries(stats.routes)) {
    if (!route.includes('/profile/identity/')) continue;
    for (const [s, c] of Object.entries(statuses)) if (status === undefined || s === status) n += c;
  }
  return n;
}

/** Identity calls that change Concur (create, PATCH, PUT, DELETE): searches excluded. */
export function identityWrites(stats: SimStats): number {
  let n = 0;
  for (const [route, statuses] of Object.entries(stats.routes)) {
    if (!route.includes('/profile/identity/') || route.includes('.search')) continue;
    if (!/^(POST|PATCH|PUT|DELETE) /.test(route)) continue;
    for (const c of Object.values(statuses)) n += c;
  }
  return n;
}

/** Creates people directly in the simulator (Concur's state before the drop; `active: 'false'` for a former employee); counters start after. */
export async function seedPeople(sim: StartedSimulator, records: readonly DropRecord[]): Promise<void> {
  const token = await sim.companyToken();
  for (const r of records) {
    const res = await fetch(`${sim.baseUrl}/profile/identity/v4.1/Users`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:User', ENT],
        userName: r.userName,
        active: r.active !== 'false',
        name: { givenName: r.givenName, familyName: r.familyName },
        emails: [{ value: r.email, type: 'work' }],
        [ENT]: { employeeNumber: r.employeeNumber, department: r.department, companyId: sim.sim.ctx.tenant.companyId },
      }),
    });
    if (res.status !== 200) throw new Error(`seed failed: ${res.status} ${await res.text()}`);
  }
  sim.sim.ctx.stats.reset();
}
