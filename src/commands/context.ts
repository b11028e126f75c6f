import { loadConfig, type Config } from '../shared/config.ts';
import { Ledger } from '../shared/ledger/ledger.ts';
import { createLogger, type Logger } from '../shared/logger.ts';
import { createQueues, type PipelineQueues } from '../shared/queues/index.ts';
import { createRedis, type RedisConnection } from '../shared/redis.ts';

/** What a one-shot command needs: fail-fast Redis (producer role), ledger, queues. */
export interface CommandContext {
  config: Config;
  log: Logger;
  redis: RedisConnection;
  ledger: Ledger;
  queues: PipelineQueues;
  close(): Promise<void>;
}

/** Logs go to stderr so stdout stays clean for `--json` and reports. */
export function openCommandContext(role: string): CommandContext {
  const config = loadConfig();
  const log = createLogger({ level: config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL, base: { role } }, process.stderr);
  const redis = createRedis(config.REDIS_URL, 'producer', log);
  const ledger = new Ledger(redis, config.QUEUE_PREFIX);
  const queues = createQueues(redis, config.QUEUE_PREFIX, log);
  return {
    config,
    log,
    redis,
    ledger,
    queues,
    close: async () => {
      await queues.close();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
