import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ApiFamily, SimContextBase } from './context.ts';
import { scimError } from './errors.ts';

// Request hooks: correlation ids on every response, then for API families (never /_sim) the
// fault knobs in a fixed order: reset → hang → rate limit (identity, ups) → injected 503 →
// latency; after a write succeeded, applyThenFailRate loses its answer (502, 504 or a reset).
// Every random choice comes from ctx.random so a seed replays the same faults.

/** Token bucket on real time (rate limits are about wall-clock throughput, not the sim clock). */
export class TokenBucket {
  private tokens = 0;
  private last = 0;
  private rps = -1;
  private capacity = -1;

  /** Takes one token, or returns the whole seconds (≥ 1) until the next one. */
  take(nowMs: number, rps: number, burstSeconds: number): { ok: true } | { ok: false; retryAfterS: number } {
    const capacity = Math.max(1, rps * burstSeconds);
    if (rps !== this.rps || capacity !== this.capacity) {
      // A changed limit starts from a full bucket.
      this.rps = rps;
      this.capacity = capacity;
      this.tokens = capacity;
      this.last = nowMs;
    }
    this.tokens = Math.min(capacity, this.tokens + ((nowMs - this.last) / 1000) * rps);
    this.last = nowMs;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, retryAfterS: Math.max(1, Math.ceil((1 - this.tokens) / rps)) };
  }

  reset(): void {
    this.rps = -1;
  }
}

const CORRELATION_HEADER = 'concur-correlationid';

function familyOf(request: FastifyRequest): ApiFamily | undefined {
  return request.routeOptions.config?.family;
}

/** Identity and UPS writes: POST, PATCH and PUT, except the `.search` read (a POST). */
function isWrite(request: FastifyRequest): boolean {
  const m = request.method;
  return (m === 'POST' || m === 'PATCH' || m === 'PUT') && !(request.routeOptions.url ?? '').endsWith('/.search');
}

function routeKey(request: FastifyRequest): string {
  return `${request.method} ${request.routeOptions.url ?? '(no route)'}`;
}

export class FaultInjector {
  private readonly buckets = { identity: new TokenBucket(), ups: new TokenBucket() };
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(private readonly ctx: SimContextBase) {}

  install(app: FastifyInstance): void {
    app.addHook('onRequest', async (request, reply) => {
      const sent = request.headers[CORRELATION_HEADER];
      request.correlationId = typeof sent === 'string' && sent.trim() !== '' ? sent.trim() : randomUUID();
      reply.header(CORRELATION_HEADER, request.correlationId);
      const family = familyOf(request);
      if (!family || family === 'admin') return;
      await this.applyFaults(family, request, reply);
    });
    // Error paths may rebuild headers; make sure the id is on every response.
    app.addHook('onSend', async (request, reply, payload) => {
      if (!reply.hasHeader(CORRELATION_HEADER)) reply.header(CORRELATION_HEADER, request.correlationId);
      return this.loseAnswer(request, reply) ?? payload;
    });
    app.addHook('onResponse', async (request, reply) => {
      if (familyOf(request) === 'admin') return;
      this.ctx.stats.recordRequest(routeKey(request), reply.statusCode);
    });
  }

  private async applyFaults(
    family: ApiFamily,
    request: FastifyRequest,
    reply: FastifyReply,
  ): Promise<FastifyReply | undefined> {
    const { knobs, random, stats } = this.ctx;
    if (random.chance(knobs.resetRate)) {
      stats.recordFault('reset');
      reply.hijack();
      const socket = request.raw.socket;
      if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
      else socket.destroy();
      return reply;
    }
    if (random.chance(knobs.hangRate)) {
      // Never answered; close() destroys the socket.
      stats.recordFault('hang');
      reply.hijack();
      return reply;
    }
    if (family === 'identity' || family === 'ups') {
      const rps = family === 'identity' ? knobs.identityRps : knobs.upsRps;
      if (rps > 0) {
        const taken = this.buckets[family].take(performance.now(), rps, knobs.burstSeconds);
        if (!taken.ok) {
          stats.recordFault('rateLimited');
          return reply
            .code(429)
            .header('retry-after', String(taken.retryAfterS))
            .send(
              scimError(429, 'Too many requests', {
                messages: [{ code: 'TOO_MANY_REQUESTS', message: 'Too many requests', type: 'error' }],
              }),
            );
        }
      }
    }
    if (random.chance(knobs.errorRate)) {
      stats.recordFault('error');
      return reply.code(503).send(scimError(503, 'Service unavailable (injected)'));
    }
    const base = knobs.latencyByFamily[family as keyof typeof knobs.latencyByFamily] ?? knobs.latencyMs;
    const ms = base + (knobs.jitterMs > 0 ? random.next() * knobs.jitterMs : 0);
    if (ms > 0) await this.sleep(ms);
    return undefined;
  }

  /**
   * applyThenFailRate: a write that succeeded is answered 502 or 504, or its connection is reset
   * (the change stays). Returns the replacement body, or undefined to send the real one.
   */
  private loseAnswer(request: FastifyRequest, reply: FastifyReply): string | undefined {
    const family = familyOf(request);
    if ((family !== 'identity' && family !== 'ups') || !isWrite(request)) return undefined;
    if (reply.statusCode < 200 || reply.statusCode >= 300) return undefined;
    const { random, knobs, stats } = this.ctx;
    if (!random.chance(knobs.applyThenFailRate)) return undefined;
    stats.recordFault('applyThenFail');
    const pick = random.next();
    if (pick < 1 / 3) {
      const socket = request.raw.socket;
      if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
      else socket.destroy();
      return undefined;
    }
    const status = pick < 2 / 3 ? 502 : 504;
    reply.code(status).header('content-type', 'application/json; charset=utf-8');
    return JSON.stringify(scimError(status, status === 502 ? 'Bad gateway' : 'Gateway timeout'));
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      this.timers.add(timer);
    });
  }

  resetBuckets(): void {
    this.buckets.identity.reset();
    this.buckets.ups.reset();
  }

  /** Drops pending latency timers (their requests' sockets are being destroyed). */
  close(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
