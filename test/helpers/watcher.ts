import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCli, waitUntil, type Child } from '../../src/demo/processes.ts';
import { dropIdFor } from '../../src/producers/ingest.ts';
import { mappingFingerprint } from '../../src/shared/mapping/mapping-file.ts';
import { Ledger } from '../../src/shared/ledger/ledger.ts';
import { createRedis, type RedisConnection } from '../../src/shared/redis.ts';
import { deletePrefix, TEST_REDIS_URL, uniquePrefix } from './redis.ts';

export interface WatcherProcess {
  child: Child;
  /** Everything the process wrote (stdout and stderr). */
  output(): Promise<string>;
  /** SIGTERM, then SIGKILL after 10 s; resolves to the exit code. */
  stop(): Promise<number | null>;
}

/** The id the watcher will give a file with these bytes (no mapping). */
export function dropIdOf(bytes: string | Buffer): string {
  return dropIdFor(createHash('sha256').update(bytes).digest('hex'), mappingFingerprint(undefined));
}

/** A key prefix, a Redis connection and a ledger on it, deleted by `close`. */
export function watchNamespace(redisUrl = TEST_REDIS_URL): {
  prefix: string;
  redis: RedisConnection;
  ledger: Ledger;
  close(): Promise<void>;
} {
  const prefix = uniquePrefix('hostile-watch');
  const redis = createRedis(redisUrl, 'producer');
  return {
    prefix,
    redis,
    ledger: new Ledger(redis, prefix),
    async close() {
      await deletePrefix(redis, prefix).catch(() => undefined);
      redis.disconnect();
    },
  };
}

/**
 * `provision watch DIR` as a real child process (bin/provision.js), polling every 50 ms, logging
 * to a temp file. Resolves once it has created its folders (or rejects when it exits first).
 */
export async function startWatcher(
  dir: string,
  options: { prefix: string; env?: Record<string, string>; args?: string[]; waitReady?: boolean },
): Promise<WatcherProcess> {
  const logDir = await mkdtemp(join(tmpdir(), 'provision-watcher-log-'));
  const child = startCli(
    'watcher',
    ['watch', dir, ...(options.args ?? [])],
    {
      ...process.env,
      REDIS_URL: TEST_REDIS_URL,
      QUEUE_PREFIX: options.prefix,
      WATCH_POLL_MS: '50',
      LOG_LEVEL: 'info',
      ...options.env,
    },
    logDir,
  );
  const output = async (): Promise<string> => readFile(child.logFile, 'utf8').catch(() => '');
  if (options.waitReady !== false) {
    await waitUntil(
      'watcher ready',
      async () => (await output()).includes('watching inbox') && (await readdir(dir)).includes('inbox'),
      30_000,
      child,
    ).catch(async (err: Error) => {
      throw new Error(`${err.message}\n${await output()}`);
    });
  }
  return {
    child,
    output,
    async stop() {
      if (child.process.exitCode === null && child.process.signalCode === null) {
        child.process.kill('SIGTERM');
        const timer = setTimeout(() => child.process.kill('SIGKILL'), 10_000);
        await child.exited;
        clearTimeout(timer);
      }
      const code = await child.exited;
      await rm(logDir, { recursive: true, force: true }).catch(() => undefined);
      return code;
    },
  };
}

/** Polls until `fn` returns something other than undefined. */
export async function eventually<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Sorted names in a folder ([] when it does not exist). */
export async function names(dir: string): Promise<string[]> {
  return (await readdir(dir).catch(() => [] as string[])).sort();
}
