import type { Logger } from '../shared/logger.ts';
import type { RedisConnection } from '../shared/redis.ts';

/**
 * Runs `fn` only if this process gets the Redis lock `key` (held at most `ms`), so one process
 * of many does a periodic chore; returns `idle` when another holds it.
 */
export async function withRedisLock<T>(
  redis: RedisConnection,
  key: string,
  ms: number,
  fn: () => Promise<T>,
  idle: T,
): Promise<T> {
  if ((await redis.set(key, String(process.pid), 'PX', ms, 'NX')) !== 'OK') return idle;
  try {
    return await fn();
  } finally {
    await redis.del(key);
  }
}

/**
 * Runs `task` every `intervalMs`, one run at a time, until stopped. Errors are logged as `what
 * failed`, never thrown; `stop` aborts the signal a run may be waiting on, then awaits the run.
 */
export function startPeriodic(
  what: string,
  intervalMs: number,
  log: Logger,
  task: (signal: AbortSignal) => Promise<unknown>,
): { stop(): Promise<void> } {
  const abort = new AbortController();
  let running: Promise<unknown> | undefined;
  const timer = setInterval(() => {
    if (running) return;
    running = task(abort.signal)
      .catch((err: unknown) => {
        if (!abort.signal.aborted) log.warn({ err }, `${what} failed`);
      })
      .finally(() => {
        running = undefined;
      });
  }, intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      abort.abort();
      await running;
    },
  };
}
