import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startCli, waitUntil, type Child } from '../../src/demo/processes.ts';
import { TEST_REDIS_URL } from './redis.ts';
import { basic } from './server.ts';

export const PROCESS_AUTH = { user: 'ops', password: 'hostile-env-password' } as const;

export interface ServerProcess {
  url: string;
  child: Child;
  /** The dashboard's Basic credentials. */
  auth: string;
  output(): Promise<string>;
  stop(): Promise<void>;
}

/**
 * `provision serve` as a real child process on a free port, under `prefix`, with the dashboard's
 * credentials and any extra env; resolves once /healthz answers.
 */
export async function startServerProcess(prefix: string, env: Record<string, string> = {}): Promise<ServerProcess> {
  const port = await freePort();
  const logDir = await mkdtemp(join(tmpdir(), 'provision-server-log-'));
  const child = startCli(
    'server',
    ['serve'],
    {
      ...process.env,
      REDIS_URL: TEST_REDIS_URL,
      QUEUE_PREFIX: prefix,
      PORT: String(port),
      DASHBOARD_USER: PROCESS_AUTH.user,
      DASHBOARD_PASSWORD: PROCESS_AUTH.password,
      LOG_LEVEL: 'info',
      ...env,
    },
    logDir,
  );
  const url = `http://127.0.0.1:${port}`;
  const output = async (): Promise<string> => readFile(child.logFile, 'utf8').catch(() => '');
  const stop = async (): Promise<void> => {
    if (child.process.exitCode === null && child.process.signalCode === null) {
      child.process.kill('SIGTERM');
      const timer = setTimeout(() => child.process.kill('SIGKILL'), 10_000);
      await child.exited;
      clearTimeout(timer);
    }
    await rm(logDir, { recursive: true, force: true }).catch(() => undefined);
  };
  try {
    await waitUntil('server', async () => (await fetch(`${url}/healthz`)).ok, 30_000, child);
  } catch (err) {
    const out = await output();
    await stop();
    throw new Error(`${(err as Error).message}\n${out}`);
  }
  return { url, child, auth: basic(PROCESS_AUTH.user, PROCESS_AUTH.password), output, stop };
}
