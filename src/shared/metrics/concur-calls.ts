import type { HttpCallEvent, HttpObserver } from '../concur/http.ts';
import { concurMetricsKey } from '../keys.ts';
import type { Logger } from '../logger.ts';
import type { RedisConnection } from '../redis.ts';

/*
 * Concur call metrics cross process boundaries cheaply: each worker process counts its calls in
 * memory and, every few seconds, adds the deltas into one Redis hash with HINCRBY (a single
 * MULTI per flush, whatever the call volume). The hash holds monotonic totals summed over every
 * process that ever ran, which is what Prometheus counters want; the server reads it on scrape.
 *
 * Hash fields (tab-separated so paths and codes cannot collide with the separator):
 *   c <endpoint> <method> <status>   calls answered (status = HTTP code) or failed (status = network code)
 *   b <endpoint> <bucket index>      latency histogram, non-cumulative; index = bucket count means +Inf
 *   s <endpoint>                     latency sum in seconds
 *   r <endpoint> <reason>            retryable outcomes (429, 408, 5xx, network): each one is retried
 */

/** Upper bounds (seconds) of the latency histogram buckets. */
export const LATENCY_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] as const;

export { concurMetricsKey };

/**
 * A low-cardinality endpoint label: ids in paths become `{id}`
 * (`/profile/identity/v4.1/Users/123` → `/profile/identity/v4.1/Users/{id}`).
 */
export function endpointOf(path: string): string {
  const parts = path.split('/');
  for (let i = 1; i < parts.length; i += 1) {
    const prev = parts[i - 1];
    const cur = parts[i] ?? '';
    if ((prev === 'Users' || prev === 'provisions' || prev === 'subscriptions') && cur !== '' && !cur.startsWith('.'))
      parts[i] = '{id}';
  }
  return parts.join('/');
}

/** Why an outcome is retried, or undefined when it is final. */
export function retryReason(event: Pick<HttpCallEvent, 'status' | 'errorCode'>): string | undefined {
  if (event.errorCode !== undefined) return 'network';
  const s = event.status ?? 0;
  if (s === 429) return 'rate_limited';
  if (s === 408 || s >= 500) return 'server';
  return undefined;
}

const SEP = '\t';

/** In-memory deltas since the last flush. */
export class CallMetrics {
  private counts = new Map<string, number>();
  private sums = new Map<string, number>();

  readonly observe: HttpObserver = (event) => {
    const endpoint = endpointOf(event.path);
    const status = event.status === undefined ? (event.errorCode ?? 'error') : String(event.status);
    this.add(['c', endpoint, event.method, status].join(SEP), 1);
    const seconds = event.durationMs / 1000;
    let bucket = LATENCY_BUCKETS_S.findIndex((le) => seconds <= le);
    if (bucket < 0) bucket = LATENCY_BUCKETS_S.length;
    this.add(['b', endpoint, bucket].join(SEP), 1);
    const sumField = ['s', endpoint].join(SEP);
    this.sums.set(sumField, (this.sums.get(sumField) ?? 0) + seconds);
    const reason = retryReason(event);
    if (reason) this.add(['r', endpoint, reason].join(SEP), 1);
  };

  private add(field: string, n: number): void {
    this.counts.set(field, (this.counts.get(field) ?? 0) + n);
  }

  get empty(): boolean {
    return this.counts.size === 0 && this.sums.size === 0;
  }

  /** Takes the deltas and starts counting afresh. */
  drain(): { counts: Map<string, number>; sums: Map<string, number> } {
    const out = { counts: this.counts, sums: this.sums };
    this.counts = new Map();
    this.sums = new Map();
    return out;
  }

  /** Merges deltas back (a flush that failed is retried with the next one). */
  restore(deltas: { counts: Map<string, number>; sums: Map<string, number> }): void {
    for (const [k, v] of deltas.counts) this.add(k, v);
    for (const [k, v] of deltas.sums) this.sums.set(k, (this.sums.get(k) ?? 0) + v);
  }
}

export interface CallMetricsPublisher {
  observer: HttpObserver;
  /** Writes the pending deltas now. */
  flush(): Promise<void>;
  /** Stops the timer and flushes what is left (a shutdown step). Idempotent. */
  stop(): Promise<void>;
}

/** Counts calls in memory and flushes the deltas into the shared hash every `flushMs`. */
export function startCallMetricsPublisher(options: {
  redis: RedisConnection;
  prefix: string;
  flushMs: number;
  log?: Logger;
}): CallMetricsPublisher {
  const metrics = new CallMetrics();
  const key = concurMetricsKey(options.prefix);
  let inFlight: Promise<void> = Promise.resolve();
  const flushOnce = async (): Promise<void> => {
    if (metrics.empty) return;
    const deltas = metrics.drain();
    const multi = options.redis.multi();
    for (const [field, n] of deltas.counts) multi.hincrby(key, field, n);
    for (const [field, v] of deltas.sums) multi.hincrbyfloat(key, field, v);
    try {
      await multi.exec();
    } catch (err) {
      metrics.restore(deltas);
      options.log?.debug({ err }, 'metrics flush failed; will retry');
    }
  };
  const flush = (): Promise<void> => (inFlight = inFlight.then(flushOnce));
  const timer = setInterval(() => void flush(), options.flushMs);
  timer.unref();
  let stopped: Promise<void> | undefined;
  return {
    observer: metrics.observe,
    flush,
    stop: () => {
      clearInterval(timer);
      stopped ??= flush();
      return stopped;
    },
  };
}

export interface CallMetricsSnapshot {
  calls: { endpoint: string; method: string; status: string; value: number }[];
  retries: { endpoint: string; reason: string; value: number }[];
  latency: { endpoint: string; buckets: number[]; sum: number; count: number }[];
}

/** Reads the shared hash into a snapshot (what every process has flushed so far). */
export async function readCallMetrics(redis: RedisConnection, prefix: string): Promise<CallMetricsSnapshot> {
  const raw = await redis.hgetall(concurMetricsKey(prefix));
  const snapshot: CallMetricsSnapshot = { calls: [], retries: [], latency: [] };
  const latency = new Map<string, { endpoint: string; buckets: number[]; sum: number; count: number }>();
  const lat = (endpoint: string): { endpoint: string; buckets: number[]; sum: number; count: number } => {
    let l = latency.get(endpoint);
    if (!l) {
      l = { endpoint, buckets: new Array<number>(LATENCY_BUCKETS_S.length + 1).fill(0), sum: 0, count: 0 };
      latency.set(endpoint, l);
    }
    return l;
  };
  for (const [field, value] of Object.entries(raw)) {
    const [kind, endpoint = '', a = '', b = ''] = field.split(SEP);
    const n = Number(value);
    if (!Number.isFinite(n)) continue;
    if (kind === 'c') snapshot.calls.push({ endpoint, method: a, status: b, value: n });
    else if (kind === 'r') snapshot.retries.push({ endpoint, reason: a, value: n });
    else if (kind === 's') lat(endpoint).sum = n;
    else if (kind === 'b') {
      const l = lat(endpoint);
      const i = Number(a);
      if (Number.isInteger(i) && i >= 0 && i < l.buckets.length) {
        l.buckets[i] = n;
        l.count += n;
      }
    }
  }
  snapshot.latency = [...latency.values()];
  return snapshot;
}
