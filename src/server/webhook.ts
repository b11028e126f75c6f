import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Queue } from 'bullmq';
import type { Config } from '../shared/config.ts';
import type { Logger } from '../shared/logger.ts';
import { ProvError } from '../shared/errors.ts';
import { statusJobId, type StatusJob } from '../shared/queues/status.ts';
import type { ExtensionStore } from '../workers/extension/store.ts';

export const WEBHOOK_PATH = '/webhooks/concur';

export interface WebhookDeps {
  store: ExtensionStore;
  statusQueue: Pick<Queue, 'add' | 'getJob'>;
  /** PEM of the key that signs ESS deliveries (WEBHOOK_PUBLIC_KEY / _FILE). */
  publicKeyPem: string;
  /** How long event ids are remembered (WEBHOOK_EVENT_TTL_MS). Default 4 days (Concur retries 72 h). */
  eventTtlMs?: number;
  /** Events whose `timeStamp` is further than this from now are refused (WEBHOOK_MAX_AGE_MS). Default 72 h 15 min. */
  maxAgeMs?: number;
  log: Logger;
  now?: () => number;
}

/** What a delivery led to (also the response body, for operators and tests). */
export type WebhookOutcome = 'promoted' | 'queued' | 'early' | 'duplicate' | 'ignored' | 'stale';

/** The PEM from WEBHOOK_PUBLIC_KEY (literal `\n` allowed) or WEBHOOK_PUBLIC_KEY_FILE; undefined when neither is set. */
export function loadWebhookPublicKey(
  config: Pick<Config, 'WEBHOOK_PUBLIC_KEY' | 'WEBHOOK_PUBLIC_KEY_FILE'>,
): string | undefined {
  if (config.WEBHOOK_PUBLIC_KEY) return config.WEBHOOK_PUBLIC_KEY.replace(/\\n/g, '\n');
  if (config.WEBHOOK_PUBLIC_KEY_FILE) {
    try {
      return readFileSync(config.WEBHOOK_PUBLIC_KEY_FILE, 'utf8');
    } catch (err) {
      throw new ProvError('PROV_ERR_CONFIG', `WEBHOOK_PUBLIC_KEY_FILE cannot be read: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }
  return undefined;
}

/** `Concur-Signature`: base64 RSA-SHA256 (PKCS#1 v1.5) over the raw body (reference §7.2). */
export function verifyConcurSignature(key: KeyObject, rawBody: Buffer, signature: string | undefined): boolean {
  if (!signature) return false;
  try {
    return verify('sha256', rawBody, key, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}

interface ProvisionEvent {
  id: string;
  eventType: string | undefined;
  provisionId: string | undefined;
  /** Epoch ms of the event's `timeStamp`; NaN when missing or unreadable. */
  at: number;
}

function readEvent(body: unknown): ProvisionEvent | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const b = body as Record<string, unknown>;
  if (typeof b.id !== 'string' || b.id === '') return undefined;
  const facts = (typeof b.facts === 'object' && b.facts !== null ? b.facts : {}) as Record<string, unknown>;
  return {
    id: b.id,
    eventType: typeof b.eventType === 'string' ? b.eventType : undefined,
    provisionId: typeof facts.provisionId === 'string' && facts.provisionId !== '' ? facts.provisionId : undefined,
    at: typeof b.timeStamp === 'string' ? Date.parse(b.timeStamp) : NaN,
  };
}

/**
 * Makes the status check of a completed provision run now: promotes its delayed job, or (when the
 * job is running or missing) queues a one-off check. A provision not recorded yet is remembered
 * so its first check runs without delay.
 */
export async function promoteStatusCheck(
  deps: Pick<WebhookDeps, 'store' | 'statusQueue'>,
  provisionId: string,
  earlyTtlMs = 3_600_000,
): Promise<WebhookOutcome> {
  const p = await deps.store.getProvision(provisionId);
  if (!p) {
    await deps.store.noteEarlyEvent(provisionId, earlyTtlMs);
    return 'early';
  }
  const jobId = await deps.store.statusJobOf(provisionId);
  const job = jobId === undefined ? undefined : await deps.statusQueue.getJob(jobId);
  if (job && (await job.isDelayed())) {
    try {
      await job.promote();
      return 'promoted';
    } catch {
      // It left the delayed set in between (a worker took it): queue a one-off check instead.
    }
  }
  const data: StatusJob = { provisionId, batchId: p.batchId, submittedAt: p.submittedAt, checks: 0, trigger: 'event' };
  await deps.statusQueue.add('status', data, { jobId: statusJobId(provisionId, 'event') });
  return 'queued';
}

/**
 * `POST /webhooks/concur`: ESS deliveries. Verifies the signature over the raw body, whatever its
 * content type (401 otherwise, which Concur retries, so a key rotation loses nothing); refuses an
 * event whose `timeStamp` is outside WEBHOOK_MAX_AGE_MS of now (a replayed capture, even one the
 * id cache has forgotten); de-duplicates by event id, remembering an id only once its event was
 * handled (a crash in between makes Concur's retry count); and answers at once after promoting
 * the provision's status check. Polling stays the fallback.
 */
export function registerConcurWebhook(app: FastifyInstance, deps: WebhookDeps): void {
  const key = createPublicKey(deps.publicKeyPem);
  const ttl = deps.eventTtlMs ?? 4 * 24 * 3600 * 1000;
  const maxAge = deps.maxAgeMs ?? 72 * 3600 * 1000 + 15 * 60 * 1000;
  const now = deps.now ?? Date.now;
  const log = deps.log.child({ component: 'webhook' });
  void app.register(async (scope) => {
    // Raw bytes whatever the content type: the signature covers the body exactly as sent.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
    scope.post(WEBHOOK_PATH, async (request, reply) => {
      const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const signature = request.headers['concur-signature'];
      if (!verifyConcurSignature(key, raw, Array.isArray(signature) ? signature[0] : signature)) {
        log.warn({ bytes: raw.length }, 'webhook signature rejected');
        return reply.code(401).send({ error: 'invalid signature' });
      }
      let event: ProvisionEvent | undefined;
      try {
        event = readEvent(JSON.parse(raw.toString('utf8')));
      } catch {
        event = undefined;
      }
      // Other 4xx are not retried by Concur: right for a body that will never make sense.
      if (!event) return reply.code(400).send({ error: 'not an event' });
      if (!Number.isFinite(event.at) || Math.abs(now() - event.at) > maxAge) {
        log.warn({ eventId: event.id }, 'webhook event outside WEBHOOK_MAX_AGE_MS (or without a timeStamp); refused');
        return reply.code(400).send({ error: 'event too old or undated', outcome: 'stale' satisfies WebhookOutcome });
      }
      if (await deps.store.seenEvent(event.id))
        return reply.code(200).send({ outcome: 'duplicate' satisfies WebhookOutcome });
      if (event.eventType !== 'provisionCompleted' || event.provisionId === undefined) {
        await deps.store.markEventSeen(event.id, ttl);
        return reply.code(200).send({ outcome: 'ignored' satisfies WebhookOutcome });
      }
      let outcome: WebhookOutcome;
      try {
        outcome = await promoteStatusCheck(deps, event.provisionId);
        await deps.store.markEventSeen(event.id, ttl);
      } catch (err) {
        // Not marked seen: Concur delivers it again.
        log.error({ err, eventId: event.id }, 'webhook processing failed');
        return reply.code(503).send({ error: 'try again' });
      }
      log.debug({ eventId: event.id, provisionId: event.provisionId, outcome }, 'provision completed event');
      return reply.code(200).send({ outcome });
    });
  });
}

/** A fastify app with only the webhook route (tests; `provision serve` registers the plugin itself). */
export async function buildWebhookApp(deps: WebhookDeps): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  registerConcurWebhook(app, deps);
  await app.ready();
  return app;
}
