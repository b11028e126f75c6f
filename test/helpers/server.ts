import type { FastifyInstance } from 'fastify';
import { createLogger } from '../../src/shared/logger.ts';
import { Ledger } from '../../src/shared/ledger/ledger.ts';
import { createQueues, type PipelineQueues } from '../../src/shared/queues/index.ts';
import { createRedis, type RedisConnection } from '../../src/shared/redis.ts';
import { buildServer, type ServerDeps } from '../../src/server/app.ts';
import type { AuthSettings } from '../../src/server/auth.ts';
import { deletePrefix, TEST_REDIS_URL, testRedis, uniquePrefix } from './redis.ts';

export const TEST_AUTH = {
  user: 'ops',
  password: 'pa:ss word 2026',
  token: 'dash-token',
  metricsToken: 'metrics-token',
} as const;

export function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

export interface ServerHarness {
  app: FastifyInstance;
  url: string;
  prefix: string;
  redis: RedisConnection;
  ledger: Ledger;
  queues: PipelineQueues;
  /** fetch with the dashboard's basic credentials. */
  get(path: string, init?: RequestInit): Promise<Response>;
  close(): Promise<void>;
}

/** The server in-process on port 0 over real Redis, with its own key prefix (deleted on close). */
export async function startServer(
  options: { auth?: AuthSettings; prefix?: string } & Partial<Pick<ServerDeps, 'uploadMaxBytes' | 'readOnly'>> = {},
): Promise<ServerHarness> {
  const prefix = options.prefix ?? uniquePrefix('srv');
  const log = createLogger({ level: 'silent' });
  const redis = createRedis(TEST_REDIS_URL, 'server', log);
  const ledger = new Ledger(redis, prefix);
  const queues = createQueues(redis, prefix, log);
  const app = await buildServer({
    ledger,
    queues,
    redis,
    prefix,
    log,
    auth: options.auth ?? TEST_AUTH,
    ...(options.uploadMaxBytes === undefined ? {} : { uploadMaxBytes: options.uploadMaxBytes }),
    ...(options.readOnly === undefined ? {} : { readOnly: options.readOnly }),
  });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  const auth = basic(TEST_AUTH.user, TEST_AUTH.password);
  return {
    app,
    url,
    prefix,
    redis,
    ledger,
    queues,
    get: (path, init = {}) =>
      fetch(`${url}${path}`, {
        ...init,
        headers: { authorization: auth, ...(init.headers as Record<string, string> | undefined) },
      }),
    close: async () => {
      await app.close();
      await queues.close();
      const cleaner = testRedis();
      await deletePrefix(cleaner, prefix);
      await cleaner.quit();
      await redis.quit();
    },
  };
}
