import { loadConfig, type Config } from '../shared/config.ts';
import { isProvError, ProvError } from '../shared/errors.ts';
import { Ledger, type DropView } from '../shared/ledger/ledger.ts';
import { EXIT } from './exit-codes.ts';
import { createLogger, type Logger } from '../shared/logger.ts';
import { createQueues, type PipelineQueues } from '../shared/queues/index.ts';
import { createRedis, readyOrFail, type RedisConnection } from '../shared/redis.ts';
import { printError } from './output.ts';
import { startTracing } from '../shared/telemetry/tracing.ts';

/** What a one-shot command needs: fail-fast Redis (producer role), ledger, queues. */
export interface CommandContext {
  config: Config;
  log: Logger;
  redis: RedisConnection;
  ledger: Ledger;
  queues: PipelineQueues;
  close(): Promise<void>;
}

/**
 * Logs go to stderr so stdout stays clean for `--json` and reports. Redis must answer first: when
 * it is down the command fails with one PROV_ERR_REDIS line (exit 3), not a retry log.
 */
export async function openCommandContext(role: string): Promise<CommandContext> {
  const config = loadConfig();
  const log = createLogger(
    { level: config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL, base: { role } },
    process.stderr,
  );
  const redis = createRedis(config.REDIS_URL, 'producer');
  await readyOrFail(redis, config.REDIS_URL);
  redis.on('error', (err: Error) =>
    log.warn({ err: { message: err.message, code: (err as { code?: string }).code } }, 'redis connection error'),
  );
  const tracing = startTracing(config, role, log);
  const ledger = new Ledger(redis, config.QUEUE_PREFIX);
  const queues = createQueues(redis, config.QUEUE_PREFIX, log, tracing.bullmq);
  return {
    config,
    log,
    redis,
    ledger,
    queues,
    close: async () => {
      await queues.close();
      await redis.quit().catch(() => redis.disconnect());
      await tracing.shutdown();
    },
  };
}

/**
 * Runs a command body with a context, closes it whatever happens, and turns the errors a user can
 * act on (unknown drop, illegal state change, unreadable input) into one stderr line and exit 3.
 */
export async function withCommandContext(role: string, body: (ctx: CommandContext) => Promise<void>): Promise<void> {
  const ctx = await openCommandContext(role);
  try {
    await body(ctx);
  } catch (err) {
    if (!isProvError(err, 'PROV_ERR_LEDGER') && !isProvError(err, 'PROV_ERR_INPUT')) throw err;
    printError(err.code, err.message);
    process.exitCode = EXIT.ERROR;
  } finally {
    await ctx.close();
  }
}

/** The drop, or PROV_ERR_LEDGER naming the id. */
export async function requireDrop(ctx: CommandContext, dropId: string): Promise<DropView> {
  const view = await ctx.ledger.getDrop(dropId);
  if (!view) throw new ProvError('PROV_ERR_LEDGER', `unknown drop ${dropId}`);
  return view;
}
