import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { ingestDrop, type IngestOptions, type IngestResult } from '../producers/ingest.ts';
import type { TokenRefusal } from '../shared/concur/token-cache.ts';
import { DEFAULT_GUARDS, type GuardLimits } from '../shared/guards/limits.ts';
import type { Ledger } from '../shared/ledger/ledger.ts';
import type { Logger } from '../shared/logger.ts';
import type { PipelineQueues } from '../shared/queues/index.ts';
import { readRateLimits } from '../shared/rate/index.ts';
import type { RedisConnection } from '../shared/redis.ts';
import { assertAuthConfigured, installAuth, type AuthSettings } from './auth.ts';
import { registerBoard } from './board.ts';
import { registerDecisionRoutes } from './decisions.ts';
import { registerDropRoutes } from './drops.ts';
import { registerReviewRoutes } from './review.ts';
import { registerMetricsRoute } from './metrics.ts';
import { registerPage } from './page.ts';
import { installCsrfGuard } from './csrf.ts';
import { durabilityProblems } from '../shared/health.ts';
import { RedisDurabilityCheck } from '../shared/redis-durability.ts';
import { installSecurityHeaders } from './headers.ts';
import { registerConcurWebhook, WEBHOOK_PATH, type WebhookDeps } from './webhook.ts';

export interface ServerDeps {
  ledger: Ledger;
  queues: PipelineQueues;
  redis: RedisConnection;
  /** The queue/ledger prefix (metrics read the shared call-metrics hash under it). */
  prefix: string;
  log: Logger;
  auth: AuthSettings;
  /** Bull Board without retry/clean/promote buttons. Default false. */
  readOnly?: boolean;
  /** Largest upload `POST /drops` takes. Default 100 MiB. */
  uploadMaxBytes?: number;
  /** Safety limits for uploaded drops (MAX_DEACTIVATIONS...); the built-in defaults when omitted. */
  guards?: GuardLimits;
  /** Replaces the ingest of uploads (default: `ingestDrop` into the identity queue). */
  ingest?: (options: IngestOptions) => Promise<IngestResult>;
  /** The ESS webhook; omitted when no public key is configured. */
  webhook?: WebhookDeps;
  /** Concur's refusal of our credentials while processing is paused for it (/metrics, the drops API). */
  tokenRefusal?: () => Promise<TokenRefusal | undefined>;
  /** Slow clients are cut off (docs/security.md). Defaults: headers 20 s, whole request 10 min. */
  timeouts?: { headersMs?: number; requestMs?: number };
  /** Fastify's trustProxy (SERVER_TRUST_PROXY): whose X-Forwarded-For to believe for the client address. */
  trustProxy?: boolean | string;
  /**
   * Redis durability (docs/operations.md#redis-durability): on /metrics, and in /readyz, which
   * answers 503 while it fails when `required` (REQUIRE_DURABLE_REDIS). Default: read from `redis`, not required.
   */
  durability?: { check: RedisDurabilityCheck; required: boolean };
}

const READY_TIMEOUT_MS = 2_000;

/**
 * The operations server: the drop page at `/`, the drops API, Bull Board at /admin/queues,
 * /metrics, the ESS webhook and the probes. Built, not listening (the caller listens).
 * Throws PROV_ERR_CONFIG when no credentials are configured and insecure mode was not asked for.
 */
export async function buildServer(deps: ServerDeps): Promise<FastifyInstance> {
  assertAuthConfigured(deps.auth);
  const log = deps.log.child({ component: 'server' });
  // Request logging off: the page polls every second. Errors are still logged below.
  const headersMs = deps.timeouts?.headersMs ?? 20_000;
  const app = Fastify({
    loggerInstance: log as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 1024 * 1024,
    // A client that sends its headers or body too slowly (slowloris) is cut off. Node checks these
    // deadlines on an interval, so the interval follows the headers deadline.
    requestTimeout: deps.timeouts?.requestMs ?? 600_000,
    http: { headersTimeout: headersMs, connectionsCheckingInterval: Math.max(100, Math.min(5_000, headersMs / 4)) },
    ...(deps.trustProxy === undefined ? {} : { trustProxy: deps.trustProxy }),
  });
  app.setErrorHandler((err: { statusCode?: number; message?: string }, request, reply) => {
    const status = err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) log.error({ err, method: request.method, route: request.routeOptions.url }, 'request failed');
    return reply.code(status).send({
      error: {
        code: status === 500 ? 'INTERNAL' : 'BAD_REQUEST',
        message: status === 500 ? 'internal error' : (err.message ?? 'bad request'),
      },
    });
  });

  installSecurityHeaders(app);
  installAuth(app, deps.auth);
  installCsrfGuard(app, { exempt: new Set([WEBHOOK_PATH]) });

  app.get('/healthz', async () => ({ status: 'ok' }));
  const durability = deps.durability ?? { check: new RedisDurabilityCheck(deps.redis), required: false };
  app.get('/readyz', async (_request, reply) => {
    try {
      const pong = await Promise.race([
        deps.redis.ping(),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), READY_TIMEOUT_MS).unref()),
      ]);
      if (pong !== 'PONG') throw new Error(`unexpected answer ${String(pong)}`);
    } catch (err) {
      return reply.code(503).send({ status: 'unavailable', redis: (err as Error).message });
    }
    const problems = (await durabilityProblems(durability.check)).map((p) => `redis not durable: ${p}`);
    if (problems.length > 0 && durability.required)
      return reply.code(503).send({ status: 'unavailable', redis: 'ok', failing: problems });
    return { status: 'ok', redis: 'ok', ...(problems.length > 0 ? { warnings: problems } : {}) };
  });

  registerPage(app);
  registerDropRoutes(app, {
    ledger: deps.ledger,
    ingest:
      deps.ingest ??
      ((options) =>
        ingestDrop(
          {
            ledger: deps.ledger,
            identityQueue: deps.queues.identity,
            log,
            ...(deps.guards ? { guards: deps.guards } : {}),
          },
          options,
        )),
    uploadMaxBytes: deps.uploadMaxBytes ?? 100 * 1024 * 1024,
    rateLimits: () => readRateLimits(deps.redis, deps.prefix),
    durability: () => durability.check.current(),
    log,
    ...(deps.tokenRefusal ? { tokenRefusal: deps.tokenRefusal } : {}),
  });
  registerReviewRoutes(app, { ledger: deps.ledger });
  registerDecisionRoutes(app, {
    ledger: deps.ledger,
    identityQueue: deps.queues.identity,
    log,
    guards: deps.guards ?? DEFAULT_GUARDS,
    auth: deps.auth,
  });
  registerMetricsRoute(app, {
    ledger: deps.ledger,
    queues: deps.queues.all,
    redis: deps.redis,
    prefix: deps.prefix,
    durability: durability.check,
    ...(deps.tokenRefusal ? { tokenRefusal: deps.tokenRefusal } : {}),
  });
  await registerBoard(app, deps.queues.all, { readOnly: deps.readOnly ?? false });
  if (deps.webhook) registerConcurWebhook(app, deps.webhook);
  await app.ready();
  return app;
}
