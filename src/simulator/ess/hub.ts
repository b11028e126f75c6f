import { randomUUID } from 'node:crypto';
import { Agent, request } from 'undici';
import type { EventHub, HubEvent, SimContext } from '../context.ts';
import { createEventSigner, type EventSigner } from './signer.ts';
import { SubscriptionStore } from './subscriptions.ts';

/** One attempt's outcome, kept (bounded) for in-process assertions and debugging. */
export interface DeliveryRecord {
  eventId: string;
  subscriptionId: string;
  endpoint: string;
  attempt: number;
  duplicate: boolean;
  /** 'delivered' (2xx), 'retry' (will try again), 'rejected' (other 4xx: not retried), 'expired' (retention passed). */
  outcome: 'delivered' | 'retry' | 'rejected' | 'expired';
  statusCode?: number;
  error?: string;
}

interface Delivery {
  eventId: string;
  subscriptionId: string;
  body: string;
  signature: string;
  correlationId: string;
  /** Simulated-clock time the event was created; retries stop after `eventRetentionMs`. */
  createdAt: number;
  attempt: number;
  duplicate: boolean;
}

const MAX_RECORDS = 10_000;
/** Receiver answers Concur retries (§7.2): 5xx, 401, 403, 429; I/O errors and timeouts too. */
const RETRY_STATUS = (s: number): boolean => s >= 500 || s === 401 || s === 403 || s === 429;

/**
 * ESS: webhook subscriptions and at-least-once delivery of signed events, with exponential backoff
 * on real timers and deliberate duplicates (`duplicateEventRate`).
 */
export class SimEventHub implements EventHub {
  readonly subscriptions = new SubscriptionStore();
  private readonly signer: EventSigner = createEventSigner();
  private readonly agent = new Agent({ connections: 16 });
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly inflight = new Map<AbortController, Promise<void>>();
  private readonly records: DeliveryRecord[] = [];
  private generation = 0;
  private closed = false;

  constructor(private readonly ctx: SimContext) {}

  get publicKeyPem(): string {
    return this.signer.publicKeyPem;
  }

  publish(event: HubEvent): void {
    if (this.closed) return;
    // Signing costs; most writes have no subscriber.
    const subscribers = this.subscriptions.matching(event.topic, event.eventType, event.companyId);
    if (subscribers.length === 0) return;
    const eventId = randomUUID();
    const envelope = {
      id: eventId,
      correlationId: event.correlationId,
      eventType: event.eventType,
      topic: event.topic,
      timeStamp: new Date(this.ctx.clock.now()).toISOString(),
      subtopic: event.subtopic ?? eventId,
      facts: event.facts,
      groups: null,
      scopes: null,
      data: '',
    };
    const body = JSON.stringify(envelope);
    const signature = this.signer.sign(body);
    for (const sub of subscribers) {
      this.attempt({
        eventId,
        subscriptionId: sub.id,
        body,
        signature,
        correlationId: event.correlationId,
        createdAt: this.ctx.clock.now(),
        attempt: 1,
        duplicate: false,
      });
    }
  }

  /** Every attempt so far, oldest first (bounded). */
  deliveries(): DeliveryRecord[] {
    return [...this.records];
  }

  reset(): void {
    this.generation += 1;
    this.subscriptions.clear();
    this.stopWork();
    this.records.length = 0;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.generation += 1;
    const running = [...this.inflight.values()];
    this.stopWork();
    await Promise.allSettled(running);
    await this.agent.close();
  }

  private stopWork(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const controller of this.inflight.keys()) controller.abort();
  }

  private attempt(d: Delivery): void {
    const controller = new AbortController();
    const task = this.send(d, controller.signal, this.generation).finally(() => this.inflight.delete(controller));
    this.inflight.set(controller, task);
  }

  private async send(d: Delivery, signal: AbortSignal, generation: number): Promise<void> {
    const sub = this.subscriptions.get(d.subscriptionId);
    // A deleted subscription gets nothing more.
    if (!sub) return;
    const endpoint = sub.webHookConfig.endpoint;
    const base = {
      eventId: d.eventId,
      subscriptionId: d.subscriptionId,
      endpoint,
      attempt: d.attempt,
      duplicate: d.duplicate,
    };
    let statusCode: number | undefined;
    let error: string | undefined;
    try {
      const timeout = this.ctx.knobs.eventTimeoutMs;
      const res = await request(endpoint, {
        method: 'POST',
        body: d.body,
        headers: {
          'content-type': 'application/json',
          'concur-signature': d.signature,
          'concur-correlationid': d.correlationId,
        },
        dispatcher: this.agent,
        signal,
        headersTimeout: timeout,
        bodyTimeout: timeout,
      });
      statusCode = res.statusCode;
      await res.body.dump();
    } catch (err) {
      if (generation !== this.generation) return;
      error = (err as { code?: string }).code ?? (err instanceof Error ? err.message : String(err));
    }
    if (generation !== this.generation) return;
    if (statusCode !== undefined && statusCode >= 200 && statusCode < 300) {
      this.record({ ...base, outcome: 'delivered', statusCode });
      // At-least-once on purpose: now and then the same event arrives twice.
      if (!d.duplicate && this.ctx.random.chance(this.ctx.knobs.duplicateEventRate)) {
        this.attempt({ ...d, attempt: 1, duplicate: true });
      }
      return;
    }
    if (statusCode !== undefined && !RETRY_STATUS(statusCode)) {
      this.record({ ...base, outcome: 'rejected', statusCode });
      return;
    }
    if (this.ctx.clock.now() - d.createdAt >= this.ctx.knobs.eventRetentionMs) {
      this.record({
        ...base,
        outcome: 'expired',
        ...(statusCode === undefined ? {} : { statusCode }),
        ...(error === undefined ? {} : { error }),
      });
      return;
    }
    this.record({
      ...base,
      outcome: 'retry',
      ...(statusCode === undefined ? {} : { statusCode }),
      ...(error === undefined ? {} : { error }),
    });
    const delay = Math.min(this.ctx.knobs.eventRetryBaseMs * 2 ** (d.attempt - 1), this.ctx.knobs.eventRetryMaxMs);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (generation === this.generation) this.attempt({ ...d, attempt: d.attempt + 1 });
    }, delay);
    this.timers.add(timer);
  }

  private record(r: DeliveryRecord): void {
    this.records.push(r);
    if (this.records.length > MAX_RECORDS) this.records.shift();
    this.ctx.log?.debug({ delivery: r }, 'ess delivery attempt');
  }
}
