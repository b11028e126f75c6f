import { createPlanLookup } from '../../../src/producers/plan-client.ts';
import type { PlanDeps } from '../../../src/producers/plan.ts';
import { createLogger } from '../../../src/shared/logger.ts';
import type { DropRecord } from '../../helpers/drops.ts';
import type { PipelineHarness } from '../../helpers/pipeline.ts';
import type { StartedSimulator } from '../../helpers/simulator.ts';

export const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
export const silent = createLogger({ level: 'silent' });

export interface SimUser {
  id: string;
  userName: string;
  active: boolean;
  name: { givenName: string; familyName: string };
  [ENT]: { employeeNumber: string; department?: string; manager?: { value: string } };
}

export async function simUsers(sim: StartedSimulator): Promise<SimUser[]> {
  const res = await fetch(`${sim.baseUrl}/_sim/state`);
  return ((await res.json()) as { users: SimUser[] }).users;
}

/** Identity calls that change Concur (create, PATCH, PUT, DELETE): searches excluded. */
export async function identityWrites(sim: StartedSimulator): Promise<number> {
  const stats = (await (await fetch(`${sim.baseUrl}/_sim/stats`)).json()) as { routes: Record<string, Record<string, number>> };
  let n = 0;
  for (const [route, statuses] of Object.entries(stats.routes)) {
    if (!route.includes('/profile/identity/') || route.includes('.search')) continue;
    if (!/^(POST|PATCH|PUT|DELETE) /.test(route)) continue;
    for (const c of Object.values(statuses)) n += c;
  }
  return n;
}

/** Creates people directly in the simulator (Concur's state before the drop). */
export async function seed(sim: StartedSimulator, records: DropRecord[]): Promise<void> {
  const token = await sim.companyToken();
  for (const r of records) {
    const res = await fetch(`${sim.baseUrl}/profile/identity/v4.1/Users`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:User', ENT],
        userName: r.userName,
        active: true,
        name: { givenName: r.givenName, familyName: r.familyName },
        emails: [{ value: r.email, type: 'work' }],
        [ENT]: { employeeNumber: r.employeeNumber, department: r.department, companyId: sim.sim.ctx.tenant.companyId },
      }),
    });
    if (res.status !== 200) throw new Error(`seed failed: ${res.status} ${await res.text()}`);
  }
  // Seeding is not the pipeline's work: count only what comes after.
  sim.sim.ctx.stats.reset();
}

/** Plan deps on the harness: the same shared identity limiter and retry rules as the CLI. */
export function planDeps(h: PipelineHarness): { deps: PlanDeps; close(): Promise<void> } {
  const lookup = createPlanLookup(h.config, h.redis, silent);
  return { deps: { ledger: h.ledger, identityQueue: h.queues.identity, log: silent, identity: lookup.identity, call: lookup.call }, close: () => lookup.close() };
}

export async function until<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
