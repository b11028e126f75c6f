import { simulatorToken } from '../../src/demo/seed.ts';
import type { KnobsPatch } from '../../src/simulator/knobs.ts';

/** `GET /_sim/stats`: requests answered, by route (`METHOD /pattern`) and status. */
export interface SimStatsSnapshot {
  total: number;
  routes: Record<string, Record<string, number>>;
}

export const ROUTES = {
  identityCreate: 'POST /profile/identity/v4.1/Users',
  identitySearch: 'POST /profile/identity/v4.1/Users/.search',
  identityPatch: 'PATCH /profile/identity/v4.1/Users/:id',
  bulk: 'POST /profile/v4/Bulk',
  status: 'GET /profile/v4/provisions/:id/status',
} as const;

/** Requests in `after` that were not yet in `before` (the simulator has no stats-only reset). */
export function diffStats(before: SimStatsSnapshot, after: SimStatsSnapshot): SimStatsSnapshot {
  const routes: SimStatsSnapshot['routes'] = {};
  for (const [route, statuses] of Object.entries(after.routes)) {
    for (const [status, n] of Object.entries(statuses)) {
      const d = n - (before.routes[route]?.[status] ?? 0);
      if (d !== 0) (routes[route] ??= {})[status] = d;
    }
  }
  return { total: after.total - before.total, routes };
}

/** Calls on the routes matching `match`, optionally only those answered `status`. */
export function countCalls(stats: SimStatsSnapshot, match: (route: string) => boolean, status?: number): number {
  let n = 0;
  for (const [route, statuses] of Object.entries(stats.routes)) {
    if (!match(route)) continue;
    for (const [s, c] of Object.entries(statuses)) if (status === undefined || Number(s) === status) n += c;
  }
  return n;
}

export const isIdentityRoute = (route: string): boolean => route.includes('/profile/identity/');
export const isRoute =
  (name: string) =>
  (route: string): boolean =>
    route === name;

export class SimClient {
  readonly url: string;
  private token: string | undefined;

  constructor(url: string) {
    this.url = url;
  }

  async stats(): Promise<SimStatsSnapshot> {
    return (await (await fetch(`${this.url}/_sim/stats`)).json()) as SimStatsSnapshot;
  }

  async configure(patch: KnobsPatch): Promise<void> {
    const res = await fetch(`${this.url}/_sim/config`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(patch),
    });
    if (!res.ok)
      throw new Error(`simulator refused the knobs ${JSON.stringify(patch)}: ${res.status} ${await res.text()}`);
    await res.arrayBuffer().catch(() => undefined);
  }

  async publicKey(): Promise<string> {
    return (await fetch(`${this.url}/_sim/public-key`)).text();
  }

  async userCount(): Promise<number> {
    const state = (await (await fetch(`${this.url}/_sim/state`)).json()) as { users: unknown[] };
    return state.users.length;
  }

  /** Creates users straight through Identity v4.1 (people who exist before a drop), a few at a time. */
  async createUsers(bodies: readonly Record<string, unknown>[], parallel = 16): Promise<void> {
    const token = await this.companyToken();
    let next = 0;
    const one = async (): Promise<void> => {
      while (next < bodies.length) {
        const body = bodies[next++]!;
        const res = await fetch(`${this.url}/profile/identity/v4.1/Users`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        const text = await res.text();
        if (res.status !== 201 && res.status !== 200)
          throw new Error(`simulator refused a seed user (${res.status}): ${text.slice(0, 200)}`);
      }
    };
    await Promise.all(Array.from({ length: parallel }, one));
  }

  private async companyToken(): Promise<string> {
    this.token ??= await simulatorToken(this.url);
    return this.token;
  }
}
