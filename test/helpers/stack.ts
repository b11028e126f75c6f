import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startCli, stopAll, waitUntil, type Child } from '../../src/demo/processes.ts';
import { createRedis } from '../../src/shared/redis.ts';
import { deletePrefix, TEST_REDIS_URL, uniquePrefix } from './redis.ts';

export const STACK_AUTH = { user: 'e2e', password: 'e2e-password' } as const;

export interface Stack {
  prefix: string;
  env: NodeJS.ProcessEnv;
  simUrl: string;
  serverUrl: string | undefined;
  children: Child[];
  logDir: string;
  /** Starts one more CLI process with the stack's env (plus `extraEnv`). */
  start(name: string, args: string[], extraEnv?: Record<string, string>): Child;
  /** Every child's log, for failure messages. */
  logs(): Promise<string>;
  stop(): Promise<void>;
}

/**
 * Real processes through bin/provision.js: the simulator, the three workers and (optionally) the
 * server, on free ports with a private key prefix (or `prefix`); tuned so a small drop finishes in
 * seconds. `env.REDIS_URL` points it at another Redis (a private server, a cluster).
 */
export async function startStack(
  options: { server?: boolean; env?: Record<string, string>; prefix?: string } = {},
): Promise<Stack> {
  const prefix = options.prefix ?? uniquePrefix('e2e');
  const logDir = await mkdtemp(join(tmpdir(), 'provision-e2e-'));
  const [simPort, serverPort] = [await freePort(), await freePort()];
  const simUrl = `http://127.0.0.1:${simPort}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    REDIS_URL: TEST_REDIS_URL,
    QUEUE_PREFIX: prefix,
    CONCUR_BASE_URL: simUrl,
    SIM_PORT: String(simPort),
    PORT: String(serverPort),
    DASHBOARD_USER: STACK_AUTH.user,
    DASHBOARD_PASSWORD: STACK_AUTH.password,
    LOG_LEVEL: 'info',
    IDENTITY_MAX_RPS: '400',
    UPS_MAX_RPS: '50',
    EXTENSION_LINGER_MS: '200',
    STATUS_FIRST_DELAY_MS: '300',
    STATUS_MAX_DELAY_MS: '1000',
    SIM_EXTENSION_DELAY_MS: '100',
    METRICS_FLUSH_MS: '200',
    WATCH_POLL_MS: '100',
    SHUTDOWN_DEADLINE_MS: '10000',
    ...options.env,
  };
  const children: Child[] = [];
  const start = (name: string, args: string[], extraEnv: Record<string, string> = {}): Child => {
    const c = startCli(name, args, { ...env, ...extraEnv }, logDir);
    children.push(c);
    return c;
  };
  const logs = async (): Promise<string> => {
    const parts = await Promise.all(
      children.map(
        async (c) => `--- ${c.name} ---\n${(await readFile(c.logFile, 'utf8').catch(() => '')).slice(-4000)}`,
      ),
    );
    return parts.join('\n');
  };
  const stop = async (): Promise<void> => {
    await stopAll(children, 15_000);
    // The keys go from the Redis the stack ran on; best effort, bounded (it may be down by now).
    const redis = createRedis(env.REDIS_URL ?? TEST_REDIS_URL, 'producer');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      deletePrefix(redis, prefix),
      new Promise((resolve) => (timer = setTimeout(resolve, 10_000))),
    ]).catch(() => undefined);
    clearTimeout(timer);
    redis.disconnect();
    await rm(logDir, { recursive: true, force: true });
  };
  try {
    const sim = start('simulator', ['simulator']);
    await waitUntil('simulator', async () => (await fetch(`${simUrl}/_sim/config`)).ok, 30_000, sim);
    for (const role of ['identity', 'extension', 'status']) start(`worker-${role}`, ['worker', role]);
    let serverUrl: string | undefined;
    if (options.server) {
      serverUrl = `http://127.0.0.1:${serverPort}`;
      const server = start('server', ['serve']);
      await waitUntil('server', async () => (await fetch(`${serverUrl}/healthz`)).ok, 30_000, server);
    }
    return { prefix, env, simUrl, serverUrl, children, logDir, start, logs, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
