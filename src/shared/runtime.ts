import { loadConfig, type Config } from './config.ts';
import { createConcurClient, type ConcurClient, type ConcurClientOptions } from './concur/index.ts';
import type { HttpObserver } from './concur/http.ts';
import { startCallMetricsPublisher } from './metrics/concur-calls.ts';
import { createRateLimiter, type ConcurRateLimiter, type RateApi } from './rate/index.ts';
import { createLogger, type Logger } from './logger.ts';
import { Ledger } from './ledger/ledger.ts';
import { createQueues, type PipelineQueues } from './queues/index.ts';
import { createRedis, type RedisConnection, type RedisRole } from './redis.ts';
import { Shutdown } from './shutdown.ts';
import { startTracing, type Tracing } from './telemetry/tracing.ts';
import { HealthEndpoint } from './health.ts';
import { ProvError } from './errors.ts';
import { RedisDurabilityCheck } from './redis-durability.ts';

/** What every long-running process (worker, server, watcher) starts with. */
export interface Runtime {
  config: Config;
  log: Logger;
  redis: RedisConnection;
  ledger: Ledger;
  queues: PipelineQueues;
  shutdown: Shutdown;
  /** OpenTelemetry for this process (off unless OTEL_* asks: docs/operations.md#traces). */
  tracing: Tracing;
  /** /healthz and /readyz on HEALTH_PORT (off at 0); parts of the process add liveness checks. */
  health: HealthEndpoint;
  /** Resolves with the health endpoint's URL once it listens (undefined when HEALTH_PORT is 0). */
  healthListening: Promise<string | undefined>;
  /** Whether Redis keeps every key (docs/operations.md#redis-durability), read at most every 10 s. */
  durability: RedisDurabilityCheck;
}

/**
 * Config, logger, one Redis connection for the role, the ledger and the queues, with their
 * shutdown steps registered (Redis last). Callers register their own steps after this, so those
 * run first on shutdown.
 */
export function createRuntime(role: string, redisRole: RedisRole, env?: Record<string, string | undefined>): Runtime {
  const config = loadConfig(env);
  const log = createLogger({ level: config.LOG_LEVEL, base: { role } });
  const shutdown = new Shutdown({ deadlineMs: config.SHUTDOWN_DEADLINE_MS, log });
  const tracing = startTracing(config, role, log);
  // Registered first, so it runs last: the spans of the drain are flushed too.
  shutdown.register('tracing', () => tracing.shutdown());
  const redis = createRedis(config.REDIS_URL, redisRole, log);
  shutdown.register('redis', async () => {
    await redis.quit().catch(() => redis.disconnect());
  });
  const ledger = new Ledger(redis, config.QUEUE_PREFIX);
  const queues = createQueues(redis, config.QUEUE_PREFIX, log, tracing.bullmq);
  shutdown.register('queues', () => queues.close());
  const durability = new RedisDurabilityCheck(redis);
  const health = new HealthEndpoint({
    redis,
    closing: () => shutdown.isClosing,
    log,
    durability: { check: durability, required: config.REQUIRE_DURABLE_REDIS },
  });
  // Said once at startup, in the background: a worker waiting for Redis to come up is not held back.
  durability.current().then(
    (d) => {
      if (!d.durable)
        log.warn(
          { problems: d.problems, requireDurableRedis: config.REQUIRE_DURABLE_REDIS },
          "Redis may lose or evict the pipeline's keys (docs/operations.md#redis-durability)",
        );
    },
    () => undefined,
  );
  let healthListening: Promise<string | undefined> = Promise.resolve(undefined);
  if (config.HEALTH_PORT > 0) {
    // Closed once the workers have drained: until then /readyz says "shutting down".
    shutdown.register('health endpoint', () => health.close());
    healthListening = health.listen(config.HEALTH_PORT, config.HEALTH_HOST);
    healthListening.catch((err: unknown) => {
      // A process nobody can probe would be restarted over and over: say why and stop.
      log.fatal({ err, port: config.HEALTH_PORT }, 'health endpoint could not listen');
      process.exitCode = 1;
      void shutdown.close();
    });
  }
  return { config, log, redis, ledger, queues, shutdown, tracing, health, healthListening, durability };
}

/**
 * With REQUIRE_DURABLE_REDIS=true, a process refuses a Redis that may evict or lose keys: it
 * closes what it opened and throws PROV_ERR_REDIS_NOT_DURABLE (the CLI exits 1). Called by every
 * long-running process before it takes work.
 */
export async function ensureDurableRedis(rt: Runtime): Promise<void> {
  if (!rt.config.REQUIRE_DURABLE_REDIS) return;
  const d = await rt.durability.current();
  if (d.durable) return;
  rt.log.fatal({ problems: d.problems }, 'Redis is not durable and REQUIRE_DURABLE_REDIS=true: refusing to start');
  await rt.shutdown.close();
  throw new ProvError(
    'PROV_ERR_REDIS_NOT_DURABLE',
    `Redis may lose or evict the pipeline's keys and REQUIRE_DURABLE_REDIS=true: ${d.problems.join('; ')}. Turn on AOF (appendonly yes) or RDB snapshots and set maxmemory-policy noeviction (docs/operations.md#redis-durability)`,
    { details: { problems: d.problems } },
  );
}

/**
 * The Concur client of a worker process, with its call counts and latencies published to Redis
 * for the server's /metrics, both closed on shutdown.
 */
export function connectConcur(
  rt: Runtime,
  options: { gates?: ConcurClientOptions['gates']; limiters?: readonly ConcurRateLimiter[] } = {},
): ConcurClient {
  const { config, redis, log } = rt;
  const limiters = options.limiters ?? [];
  const callMetrics = startCallMetricsPublisher({
    redis,
    prefix: config.QUEUE_PREFIX,
    flushMs: config.METRICS_FLUSH_MS,
    log,
  });
  rt.shutdown.register('call metrics', () => callMetrics.stop());
  // Every call feeds the metrics and the rate limiters (each takes its own API family's calls).
  const observer: HttpObserver = (event) => {
    callMetrics.observer(event);
    for (const l of limiters) l.observe(event);
  };
  const concur = createConcurClient({ config, redis, log, http: { observer }, gates: options.gates ?? {} });
  rt.shutdown.register('concur client', () => concur.close());
  return concur;
}

/**
 * The shared rate limiter of an API family (IDENTITY_MAX_RPS / UPS_MAX_RPS), reporting what is
 * left on shutdown. Pass it to connectConcur's `limiters` so it sees the calls it limits.
 */
export function rateLimiter(rt: Runtime, api: RateApi): ConcurRateLimiter {
  const limiter = createRateLimiter(api, { redis: rt.redis, config: rt.config, log: rt.log });
  rt.shutdown.register(`${api} rate limiter`, () => limiter.stop());
  return limiter;
}
