/** Request counters for `GET /_sim/stats`: by route and status, 429s, and injected faults. */
export class SimStats {
  private readonly byRoute = new Map<string, Map<number, number>>();
  private readonly faults = { error: 0, hang: 0, reset: 0, rateLimited: 0, applyThenFail: 0 };
  private total = 0;

  recordRequest(route: string, status: number): void {
    this.total += 1;
    let statuses = this.byRoute.get(route);
    if (!statuses) {
      statuses = new Map();
      this.byRoute.set(route, statuses);
    }
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
  }

  recordFault(kind: keyof SimStats['faults']): void {
    this.faults[kind] += 1;
  }

  /** Number of requests answered on a route (`METHOD /url-pattern`), optionally with one status. */
  count(route: string, status?: number): number {
    const statuses = this.byRoute.get(route);
    if (!statuses) return 0;
    if (status !== undefined) return statuses.get(status) ?? 0;
    let n = 0;
    for (const c of statuses.values()) n += c;
    return n;
  }

  reset(): void {
    this.byRoute.clear();
    this.total = 0;
    for (const k of Object.keys(this.faults) as (keyof SimStats['faults'])[]) this.faults[k] = 0;
  }

  toJSON(): Record<string, unknown> {
    const routes: Record<string, Record<string, number>> = {};
    for (const [route, statuses] of this.byRoute) {
      routes[route] = Object.fromEntries([...statuses].map(([s, c]) => [String(s), c]));
    }
    return { total: this.total, routes, rateLimited: this.faults.rateLimited, faults: { ...this.faults } };
  }
}
