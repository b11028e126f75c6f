import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { Queue } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import type { Ledger, DropView } from '../shared/ledger/ledger.ts';
import { ROW_STATES } from '../shared/ledger/states.ts';
import { LATENCY_BUCKETS_S, readCallMetrics, type CallMetricsSnapshot } from '../shared/metrics/concur-calls.ts';
import type { TokenRefusal } from '../shared/concur/token-cache.ts';
import { RATE_APIS, readRateLimits, type RateApi, type RateLimitView } from '../shared/rate/index.ts';
import type { RedisConnection } from '../shared/redis.ts';
import type { RedisDurabilityCheck } from '../shared/redis-durability.ts';
import { registerQueueAge, registerRedisMemory } from './capacity-metrics.ts';

export interface MetricsDeps {
  ledger: Ledger;
  queues: readonly Queue[];
  redis: RedisConnection;
  prefix: string;
  /** How many recent drops the row gauges sum over. Default 100. */
  recentDrops?: number;
  /** Concur's refusal of our credentials, while processing is paused for it. */
  tokenRefusal?: () => Promise<TokenRefusal | undefined>;
  /** Whether Redis keeps every key (provision_redis_durable). */
  durability?: RedisDurabilityCheck;
}

const JOB_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'failed', 'completed'] as const;

/**
 * The server's registry: rows by state and drops by status (from the ledger counters of recent
 * drops), queue depths (BullMQ job counts), this process's defaults, and, rendered from the shared
 * Redis hash, the Concur call metrics that the worker processes flush (see concur-calls.ts).
 */
export function createMetrics(deps: MetricsDeps): { registry: Registry; render(): Promise<string> } {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'provision_server_' });
  const recent = deps.recentDrops ?? 100;
  // One scrape asks for the same list from two gauges; keep it for a moment.
  let cache: { at: number; views: DropView[] } | undefined;
  const recentViews = async (): Promise<DropView[]> => {
    if (cache && Date.now() - cache.at < 500) return cache.views;
    const ids = await deps.ledger.listDrops(recent);
    const views = (await Promise.all(ids.map((id) => deps.ledger.getDrop(id)))).filter(
      (v): v is DropView => v !== undefined,
    );
    cache = { at: Date.now(), views };
    return views;
  };

  new Gauge({
    name: 'provision_rows',
    help: 'Rows of the recent drops by state (from the ledger counters).',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      const views = await recentViews();
      this.reset();
      for (const state of ROW_STATES)
        this.set(
          { state },
          views.reduce((n, v) => n + (v.counts[state] ?? 0), 0),
        );
    },
  });
  new Gauge({
    name: 'provision_drops',
    help: 'Recent drops by status.',
    labelNames: ['status'],
    registers: [registry],
    async collect() {
      const views = await recentViews();
      this.reset();
      const by = new Map<string, number>();
      for (const v of views) by.set(v.meta.status, (by.get(v.meta.status) ?? 0) + 1);
      for (const [status, n] of by) this.set({ status }, n);
    },
  });
  new Gauge({
    name: 'provision_queue_jobs',
    help: 'Jobs per queue and state (BullMQ job counts).',
    labelNames: ['queue', 'state'],
    registers: [registry],
    async collect() {
      const counts = await Promise.all(
        deps.queues.map(async (q) => ({ queue: q.name, counts: await q.getJobCounts(...JOB_STATES) })),
      );
      this.reset();
      for (const { queue, counts: c } of counts)
        for (const state of JOB_STATES) this.set({ queue, state }, c[state] ?? 0);
    },
  });

  new Gauge({
    name: 'provision_concur_token_refused',
    help: 'Concur refuses the stored refresh token (error code 108) or every other credential, and processing is paused for it: 1, else 0.',
    registers: [registry],
    async collect() {
      this.set(deps.tokenRefusal && (await deps.tokenRefusal()) ? 1 : 0);
    },
  });
  // Both rate gauges read the limiters' hashes (shared by every worker process), once per scrape.
  let rates: Promise<Record<RateApi, RateLimitView>> | undefined;
  const rateViews = (): Promise<Record<RateApi, RateLimitView>> => (rates ??= readRateLimits(deps.redis, deps.prefix));
  new Gauge({
    name: 'provision_rate_limit_rps',
    help: 'Concur calls per second the shared limiter allows now, by API (adaptive or fixed; 0 = no limit).',
    labelNames: ['api'],
    registers: [registry],
    async collect() {
      const views = await rateViews();
      this.reset();
      for (const api of RATE_APIS) {
        const rps = views[api].rps;
        if (rps !== undefined) this.set({ api }, rps);
      }
    },
  });
  new Gauge({
    name: 'provision_concur_last_429_timestamp_seconds',
    help: 'When Concur last answered 429, by API (Unix seconds; 0 = not within the last hour of calls).',
    labelNames: ['api'],
    registers: [registry],
    async collect() {
      const views = await rateViews();
      this.reset();
      for (const api of RATE_APIS) this.set({ api }, (views[api].last429At ?? 0) / 1000);
    },
  });
  registerQueueAge(registry, deps.queues);
  registerRedisMemory(registry, deps.redis);
  const durability = deps.durability;
  if (durability) {
    new Gauge({
      name: 'provision_redis_durable',
      help: 'Redis keeps every key: maxmemory-policy noeviction and AOF or RDB snapshots on (every master of a cluster): 1, else 0 (docs/operations.md#redis-durability).',
      registers: [registry],
      async collect() {
        this.set((await durability.current()).durable ? 1 : 0);
      },
    });
  }

  return {
    registry,
    render: async () => {
      rates = undefined;
      const [own, calls] = await Promise.all([registry.metrics(), readCallMetrics(deps.redis, deps.prefix)]);
      return own + renderCallMetrics(calls);
    },
  };
}

function label(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

/**
 * Prometheus text for the worker-side Concur metrics. prom-client cannot adopt histogram buckets
 * counted elsewhere, so these few series are written directly in the exposition format.
 */
export function renderCallMetrics(s: CallMetricsSnapshot): string {
  const out: string[] = [];
  out.push(
    '# HELP provision_concur_calls_total Concur API calls by endpoint, method and status (network failures use the error code).',
  );
  out.push('# TYPE provision_concur_calls_total counter');
  for (const c of s.calls)
    out.push(
      `provision_concur_calls_total{endpoint="${label(c.endpoint)}",method="${label(c.method)}",status="${label(c.status)}"} ${c.value}`,
    );
  out.push('# HELP provision_concur_rate_limited_total Concur answers 429 by endpoint.');
  out.push('# TYPE provision_concur_rate_limited_total counter');
  const limited = new Map<string, number>();
  for (const c of s.calls) if (c.status === '429') limited.set(c.endpoint, (limited.get(c.endpoint) ?? 0) + c.value);
  for (const [endpoint, n] of limited)
    out.push(`provision_concur_rate_limited_total{endpoint="${label(endpoint)}"} ${n}`);
  out.push(
    '# HELP provision_concur_retries_total Concur calls that ended in a retryable outcome (429, 408, 5xx, network error) and were retried.',
  );
  out.push('# TYPE provision_concur_retries_total counter');
  for (const r of s.retries)
    out.push(`provision_concur_retries_total{endpoint="${label(r.endpoint)}",reason="${label(r.reason)}"} ${r.value}`);
  out.push('# HELP provision_concur_call_duration_seconds Concur API call latency by endpoint.');
  out.push('# TYPE provision_concur_call_duration_seconds histogram');
  for (const l of s.latency) {
    const ep = label(l.endpoint);
    let cumulative = 0;
    LATENCY_BUCKETS_S.forEach((le, i) => {
      cumulative += l.buckets[i] ?? 0;
      out.push(`provision_concur_call_duration_seconds_bucket{endpoint="${ep}",le="${le}"} ${cumulative}`);
    });
    out.push(`provision_concur_call_duration_seconds_bucket{endpoint="${ep}",le="+Inf"} ${l.count}`);
    out.push(`provision_concur_call_duration_seconds_sum{endpoint="${ep}"} ${l.sum}`);
    out.push(`provision_concur_call_duration_seconds_count{endpoint="${ep}"} ${l.count}`);
  }
  return `${out.join('\n')}\n`;
}

export function registerMetricsRoute(app: FastifyInstance, deps: MetricsDeps): void {
  const metrics = createMetrics(deps);
  app.get('/metrics', async (_request, reply) => {
    const body = await metrics.render();
    return reply.header('content-type', metrics.registry.contentType).send(body);
  });
}
